// The link from this device to the next one in the ring: round-trip time and bandwidth, for DeviceProfile.link
// (prima.cpp sets communication cost to zero; Halda prices every hop as rtt + hidden bytes / bandwidth).
//
//   auto conn = cluster::Connection::open("10.0.0.12:9000", "w2");
//   auto link = profiler::measure_link(*conn);        // the next device's Endpoint must be up
//   profile.link = link->profile();
//
// RTT: `pings` heartbeats one after another, each answered at once by the next device's Endpoint I/O thread
// (cluster/endpoint.h); the median is the RTT. Bandwidth: rounds of large Activations messages followed by one
// heartbeat; the pong comes back only after every byte before it has arrived (one TCP stream, in order), so a
// round's time is bytes / bandwidth + one RTT. A round starts at 256 KiB and doubles until it takes at least
// `round_seconds` (or reaches `max_round_bytes`); the remaining rounds at that size are the samples, and the
// median of bytes / (round time - median RTT) is the bandwidth. Everything is bounded by `seconds`.
//
// The bulk messages are Activations with step_id = kLinkProbeStep (and zero data). The receiving device gets them
// from Endpoint::recv() like any message and must drop them: is_link_probe(msg). They are at most
// `max_message_bytes` each and `max_round_bytes` per round, so a device that drains late holds at most one round.
// On this side, the pong of a ping that timed out may still arrive after measure_link returns: callers that read
// the same Connection afterwards skip heartbeat replies they did not ask for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cluster/connection.h"
#include "core/error.h"
#include "profiler/estimate.h"
#include "scheduler/device_profile.h"

namespace prima::profiler {

inline constexpr uint64_t kLinkProbeStep = UINT64_MAX;

// Whether a received message is a bulk message of a link measurement (to be dropped).
bool is_link_probe(const cluster::Message& msg);

struct LinkOptions {
  int pings = 9;                         // RTT samples (plus one warm-up ping)
  double seconds = 2.0;                  // the whole measurement, connection wait included
  double round_seconds = 0.15;           // a bandwidth round grows until it takes this long
  int rounds = 5;                        // bandwidth samples at the final round size, time permitting
  size_t max_message_bytes = 4u << 20;   // per bulk message
  size_t max_round_bytes = 64u << 20;    // per round
  uint64_t session = 0;                  // stamped into the heartbeats (the next device's HeadWatch sees it)
};

struct LinkMeasurement {
  Estimate rtt;        // seconds
  Estimate bandwidth;  // bytes/s; n = 0 when no round completed in time (then 0: unknown)
  uint64_t round_bytes = 0;  // bytes per bandwidth round (final size)
  uint64_t bulk_bytes = 0;   // bytes sent for the bandwidth, calibration included
  double seconds = 0;
  std::vector<std::string> notes;

  scheduler::LinkProfile profile() const { return {rtt.median, bandwidth.median}; }
};

// Fails when the next device is not reachable, answers no ping in time, or sends an Error; a bandwidth that could
// not be measured in time is 0 with a note, not an error.
Result<LinkMeasurement> measure_link(cluster::Connection& next, const LinkOptions& options = {});

}  // namespace prima::profiler
