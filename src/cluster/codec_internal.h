// Pieces of the codec shared by protocol.cpp and activations.cpp (not part of the module's API).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/protocol.h"
#include "core/bytes.h"

namespace prima::cluster::detail {

void write_header(uint8_t* out, MsgType type, uint16_t flags, uint32_t payload_len, uint64_t seq);

// Activations payload: size, direct encoding into the frame, decoding into a view. `frame_offset` is where the
// payload starts in the frame (the data is padded to 8-byte alignment relative to the frame start).
size_t activations_payload_size(const Activations& a);
void write_activations(const Activations& a, uint8_t* out, size_t frame_offset);
Activations read_activations(ByteReader& r);  // r positioned at the payload start, spanning exactly the frame

}  // namespace prima::cluster::detail
