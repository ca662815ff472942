#include "support/zoo_cache.h"

#include <map>
#include <mutex>

#include "pipecut/zoo.h"

namespace pipecut::testing {

const Model& zoo_model(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, Model> cache;
  const std::lock_guard lock(mutex);
  auto it = cache.find(name);
  if (it == cache.end())
    it = cache.emplace(name, Model::from_bytes(build_zoo_model(name), name + ".tflite")).first;
  return it->second;
}

}  // namespace pipecut::testing
