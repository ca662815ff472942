#include "quant/buffers.h"

#include <vector>

namespace pipecut {

void drop_unused_buffers(tflite::ModelT& m) {
  std::vector<bool> used(m.buffers.size(), false);
  for (const auto& graph : m.subgraphs)
    for (const auto& t : graph->tensors)
      if (t->buffer < used.size()) used[t->buffer] = true;
  for (const auto& meta : m.metadata)
    if (meta && meta->buffer < used.size()) used[meta->buffer] = true;
  for (const int32_t b : m.metadata_buffer)
    if (b >= 0 && static_cast<size_t>(b) < used.size()) used[static_cast<size_t>(b)] = true;
  for (size_t i = 1; i < m.buffers.size(); ++i)
    if (!used[i] && m.buffers[i]) m.buffers[i]->data.clear();
}

}  // namespace pipecut
