#include "daemon/http/curl_transport.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include <curl/curl.h>

#include "daemon/core/redact.h"
#include "daemon/core/text.h"

namespace sfkb::http {
namespace {

// ---- RAII for the C handles ----
struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// How long one curl_multi_poll may block before the stop token is looked at again. The stop
// callback also wakes the poll, so this only bounds the worst case.
constexpr int kPollSliceMs = 200;

void global_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    // Never cleaned up: other threads may still hold handles at exit, and the OS reclaims it.
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

// The URL as it may appear in an error: no query string (it can carry identifiers or tokens).
std::string url_for_log(const std::string& url) {
  return core::redact_text(url.substr(0, url.find('?')));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// State of one exchange, reached from libcurl's callbacks (which run on the perform() thread).
struct Exchange {
  Response response;
  std::size_t max_bytes = 0;
  bool too_large = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  if (exchange->response.body.size() + bytes > exchange->max_bytes) {
    exchange->too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  exchange->response.body.append(data, bytes);
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    // A new status line (after a 100 Continue or a proxy CONNECT): only the last block counts.
    exchange->response.headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    exchange->response.headers.emplace_back(lower(core::trim(line.substr(0, colon))),
                                            std::string(core::trim(line.substr(colon + 1))));
  }
  return bytes;
}

}  // namespace

struct CurlTransport::Handles {
  EasyPtr easy;
  MultiPtr multi;
  char error[CURL_ERROR_SIZE] = {};
};

CurlTransport::CurlTransport(CurlTransportOptions options)
    : options_(std::move(options)), handles_(std::make_unique<Handles>()) {
  global_init_once();
  handles_->easy.reset(curl_easy_init());
  handles_->multi.reset(curl_multi_init());
  if (!handles_->easy || !handles_->multi) {
    throw std::runtime_error("libcurl: cannot create handles");
  }
  CURL* easy = handles_->easy.get();
  // Options that hold for the life of the handle. Proxies are deliberately not set: libcurl then
  // honours http_proxy / https_proxy / no_proxy from the environment.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // threads + timeouts: no SIGALRM
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, handles_->error);
  curl_easy_setopt(easy, CURLOPT_COOKIEFILE, "");  // in-memory cookie engine, this instance only
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
}

CurlTransport::~CurlTransport() = default;

void CurlTransport::clear_cookies() {
  curl_easy_setopt(handles_->easy.get(), CURLOPT_COOKIELIST, "ALL");
}

core::Result<Response> CurlTransport::perform(const Request& request, std::stop_token stop) {
  if (stop.stop_requested()) {
    return core::Error{core::ErrorKind::kStopped, "stopped before " + url_for_log(request.url)};
  }
  CURL* easy = handles_->easy.get();
  CURLM* multi = handles_->multi.get();
  handles_->error[0] = '\0';

  Exchange exchange;
  exchange.max_bytes = options_.max_response_bytes;
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));

  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, nullptr);
  if (request.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else {
    // POST (and any other method with a body): the body is not copied, `request` outlives the
    // exchange.
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  SlistPtr headers;
  const auto append_header = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();  // `next` now owns the old list
      headers.reset(next);
    }
  };
  for (const auto& [name, value] : request.headers) {
    append_header(name + ": " + value);
  }
  // No "Expect: 100-continue" round trip before large bodies: Salesforce answers at once.
  append_header("Expect:");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());

  if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
    return core::retry_error(request.method + " " + url_for_log(request.url) +
                             ": cannot start the transfer");
  }
  // Wakes the poll from whichever thread requests the stop, so the wait ends at once rather than
  // at the end of the current slice.
  std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });

  CURLcode result = CURLE_OK;
  bool done = false;
  bool stopped = false;
  while (!done) {
    int running = 0;
    const CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      result = CURLE_RECV_ERROR;
      std::snprintf(handles_->error, CURL_ERROR_SIZE, "%s", curl_multi_strerror(mc));
      break;
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
        result = message->data.result;
        done = true;
      }
    }
    if (done) {
      break;
    }
    if (stop.stop_requested()) {
      stopped = true;
      break;
    }
    curl_multi_poll(multi, nullptr, 0, kPollSliceMs, nullptr);
    if (stop.stop_requested()) {
      stopped = true;
      break;
    }
  }
  // Removing the handle mid-transfer abandons it (libcurl closes that connection); after a
  // complete exchange the connection stays in the multi's cache for the next request.
  curl_multi_remove_handle(multi, easy);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);

  const std::string what = request.method + " " + url_for_log(request.url);
  if (stopped) {
    return core::Error{core::ErrorKind::kStopped, what + ": stopped"};
  }
  if (exchange.too_large) {
    return core::retry_error(what + ": response larger than " +
                             std::to_string(options_.max_response_bytes) + " bytes");
  }
  if (result != CURLE_OK) {
    const std::string detail =
        handles_->error[0] != '\0' ? handles_->error : curl_easy_strerror(result);
    return core::retry_error(what + ": " + core::redact_text(detail));
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &exchange.response.status);
  return std::move(exchange.response);
}

}  // namespace sfkb::http
