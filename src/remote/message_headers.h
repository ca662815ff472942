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

// A header's decimal count (a frame number, a redelivery count); 0, with *ok false, for anything
// else.
inline uint64_t parse_count(const std::string& text, bool* ok = nullptr) {
  const bool good = !text.empty() && text.size() <= 19 &&
                    text.find_first_not_of("0123456789") == std::string::npos;
  if (ok) *ok = good;
  return good ? std::stoull(text) : 0;
}

// A run id or subject token: 1 to 64 letters, digits, '-' or '_' (no '.', '*', '>' or spaces).
inline bool valid_token(const std::string& t) {
  return !t.empty() && t.size() <= 64 &&
         t.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") ==
             std::string::npos;
}

// Text safe as a header value: control characters become spaces, at most 1,000 bytes.
inline std::string header_text(std::string text) {
  if (text.size() > 1000) text = text.substr(0, 997) + "...";
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return text;
}

}  // namespace pipecut::remote
