// Optional authentication and encryption of the whole cluster with ZMQ CURVE, from one shared key.
//
// `prima keygen`-style: generate_cluster_key() returns a Z85 CURVE secret key (40 characters); every device of the
// cluster is given the same one (TransportOptions::cluster_key). Every socket then uses the key pair derived from
// it: listening sockets are CURVE servers with that secret; connecting sockets use it both as their own key pair
// and to know the server's public key. A ZAP handler on each listener admits only clients presenting the cluster's
// public key, which proves (CURVE's vouch) that they hold the secret. Traffic is encrypted as a side effect.
// Without a key (the default) nothing is authenticated: use on a trusted home network only.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace zmq {
class socket_t;
}

namespace prima::cluster {

bool curve_available();  // libzmq built with CURVE (Debian's is)
std::string generate_cluster_key();
Status check_cluster_key(std::string_view key);  // 40 Z85 characters

// Both do nothing for an empty key.
Status apply_client_security(zmq::socket_t& s, const std::string& key);
Status apply_server_security(zmq::socket_t& s, const std::string& key);

}  // namespace prima::cluster
