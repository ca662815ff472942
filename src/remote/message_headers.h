#pragma once
// The NATS headers a frame message carries beside its body (frame_codec.h), and the message ids
// that let JetStream drop a frame published twice.
#include <cstdint>
#include <string>

namespace pipecut::remote {

inline constexpr const char* kRunHeader = "Pipecut-Run";      // the client run's id
inline constexpr const char* kReplyHeader = "Pipecut-Reply";  // where the result goes
inline constexpr const char* kFrameHeader = "Pipecut-Frame";  // the frame number, decimal
// Deliveries beyond the first, summed over the stages so far.
inline constexpr const char* kRedeliveredHeader = "Pipecut-Redelivered";
inline constexpr const char* kFailedHeader = "Pipecut-Failed";  // a failed frame's reason

// "<run>.<frame>.s<stage>" for the message into stage `stage` (1-based); "... .out" for the
// result and "... .fail" for a failure report.
inline std::string message_id(const std::string& run, uint64_t frame, const std::string& where) {
  return run + "." + std::to_string(frame) + "." + where;
}

}  // namespace pipecut::remote
