#pragma once
// The "edgetpu" records of meta.json, and writing them into a folder's meta.json in place.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "pipecut/edgetpu_compiler.h"

namespace pipecut {

// The compiler's figures for one model: bytes as integers, absent figures left out.
nlohmann::ordered_json compiled_model_json(const CompiledModelReport& report);

// {"source": "compiled", "ok", "failure", "compiler_version", the figures, the file names}.
nlohmann::ordered_json file_compile_json(const FileCompileResult& result,
                                         const std::filesystem::path& compiler);

// Sets `key` of each file entry named in `records` ("tflite/seg1_int8.tflite" -> value) in
// `folder`/meta.json and rewrites it atomically. Throws pipecut::Error naming the file when
// meta.json is missing, malformed or lacks one of the files.
void set_file_records(const std::filesystem::path& folder, const std::string& key,
                      const std::map<std::string, nlohmann::ordered_json>& records);

}  // namespace pipecut
