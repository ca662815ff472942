#pragma once
// Byte counts as users write them ("7MiB", "512 KiB", "7340032") and as we print them.
#include <cstdint>
#include <string>

namespace pipecut {

// Accepts a plain byte count or a number with B, KiB, MiB, GiB (also KB/MB/GB as 1000-based,
// K/M/G as 1024-based). Throws pipecut::Error naming `what` when the text is not a size.
int64_t parse_size(const std::string& text, const std::string& what = "size");
// "6.84 MiB", "812.0 KiB", "96 B".
std::string format_size(int64_t bytes);
// Counts in decimal units: "4.09 G", "312.5 M", "820 K", "96".
std::string format_count(int64_t n);

}  // namespace pipecut
