#pragma once

#include <httplib.h>

#include "org.h"

namespace sfkb::emulator {

// The unauthenticated /_emulator/* API that tests and developers drive the org with.
class AdminEndpoint {
 public:
  explicit AdminEndpoint(Org& org) : org_(org) {}

  void inject(const httplib::Request& req, httplib::Response& res);
  void published(const httplib::Request& req, httplib::Response& res);
  void faults(const httplib::Request& req, httplib::Response& res);
  void reset(const httplib::Request& req, httplib::Response& res);
  void stats(const httplib::Request& req, httplib::Response& res);
  // GET: the allocations with Used. POST {"roll_over":"hour"|"day", "set":{NAME:{"Max":M,
  // "Used":U}}}: rolls over first, then sets; answers like GET.
  void limits(const httplib::Request& req, httplib::Response& res);

 private:
  Org& org_;
};

}  // namespace sfkb::emulator
