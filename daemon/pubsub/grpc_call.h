#pragma once
// What every Pub/Sub API call of the bridge shares, the subscribe source (pubsub_client.h) and
// the publisher (pubsub_publisher.h) alike: the channel's credentials, the auth metadata of one
// call, and Salesforce's error code from a call's trailers (docs/SALESFORCE_PROTOCOL.md
// "Pub/Sub API (gRPC)").

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "daemon/core/url.h"
#include "daemon/salesforce/token_source.h"

namespace sfkb::pubsub {

// TLS with `ca_file`'s roots (empty: gRPC's default roots), or plain text where the endpoint
// allows it (core::parse_grpc_endpoint admits plain text only to a loopback host). Throws
// std::runtime_error when ca_file cannot be read.
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const core::GrpcEndpoint& endpoint,
                                                              const std::string& ca_file);

// The metadata every call carries: accesstoken, instanceurl and tenantid (the org ID).
void add_auth(grpc::ClientContext& context, const salesforce::Session& session);

// A trailer of a finished call (e.g. "error-code"); empty when absent.
std::string trailer(const grpc::ClientContext& context, const char* key);

}  // namespace sfkb::pubsub
