#include "daemon/pubsub/grpc_call.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sfkb::pubsub {

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const core::GrpcEndpoint& endpoint,
                                                              const std::string& ca_file) {
  if (!endpoint.tls) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  if (!ca_file.empty()) {
    std::ifstream in(ca_file);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in) {
      throw std::runtime_error("salesforce.ca_file " + ca_file + " cannot be read");
    }
    ssl.pem_root_certs = pem.str();
  }
  return grpc::SslCredentials(ssl);
}

void add_auth(grpc::ClientContext& context, const salesforce::Session& session) {
  context.AddMetadata("accesstoken", session.access_token);
  context.AddMetadata("instanceurl", session.instance_url);
  context.AddMetadata("tenantid", session.org_id);
}

std::string trailer(const grpc::ClientContext& context, const char* key) {
  const auto& trailers = context.GetServerTrailingMetadata();
  const auto it = trailers.find(key);
  return it == trailers.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

}  // namespace sfkb::pubsub
