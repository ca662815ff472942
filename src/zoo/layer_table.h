#pragma once
// Architectures as layer tables: one row per layer ("conv 64 3x3 s2 bn relu"), read by one
// builder (build_from_table), so a new architecture is a new table and not new graph code.
// Repeated structures (a residual block, an inception module) are block tables: branches of rows
// from the block's input, merged by ADD or CONCATENATION. See docs/zoo.md for the row syntax.
#include <string>
#include <vector>

#include "zoo/builder.h"

namespace pipecut::zoo {

// A block table. Rows may use $1..$9 (the instance's arguments), $in (its input's channels) and
// products of them with numbers ("$1*4"). A branch that is the single row "shortcut F sS" is the
// input itself when that already has F channels and S is 1, else a 1x1 convolution with stride S
// and batch norm; `shortcut` says where a block adds no shortcut at all.
struct BlockTable {
  enum class Shortcut {
    kIdentityOrProjection,  // the input, or a 1x1 projection where the shape changes
    kNoneWhenStrided,       // as that, but an instance with a stride other than 1 adds nothing
                            // (kuangliu's CIFAR MobileNetV2)
    kIdentityOnly,          // the input, or nothing where it would need a projection (Keras'
                            // MobileNetV2)
  };
  std::string name;
  std::vector<std::vector<std::string>> branches;
  std::string merge;        // "add", "add relu", "concat"
  int stride_argument = 0;  // which $k is the block's stride (0: none)
  Shortcut shortcut = Shortcut::kIdentityOrProjection;
};

struct LayerTable {
  std::string summary;                      // one line, for the model description
  std::string output_name = "predictions";  // the output's name in the serving signature
  std::string input_name = "input_1";       // the input tensor's name
  std::string prefix = "model/";            // before every other tensor name
  std::vector<BlockTable> blocks;
  std::vector<std::string> rows;  // the model, from its input to its output
};

// Builds `table` into `g` (names: "<layer>" for the model's own rows, "<block><n>_<row>" inside
// block instances, "<block><n>_out" for their outputs, as the TF converter prefixes them), marks
// the last row's output as the table's output_name and returns the summary. Throws pipecut::Error
// naming the row that does not parse.
std::string build_from_table(GraphBuilder& g, const LayerTable& table);

// Gives the table's input `size` x `size` pixels (its channels kept) and says so in its summary.
// Throws pipecut::Error for a size outside 16..2048 or a table without an input row.
void resize_input(LayerTable& table, int size);

}  // namespace pipecut::zoo
