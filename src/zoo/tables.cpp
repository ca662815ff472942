// The zoo's names and their layer tables.
#include "zoo/models.h"

namespace pipecut::zoo {

LayerTable zoo_table(const std::string& name) {
  if (name == "resnet18") return keras_resnet(18);
  if (name == "resnet34") return keras_resnet(34);
  if (name == "resnet50") return keras_resnet(50);
  if (name == "resnet101") return keras_resnet(101);
  if (name == "resnet152") return keras_resnet(152);
  if (name == "mobilenet_v2") return keras_mobilenet_v2();
  if (name == "inception_v3") return keras_inception_v3();
  if (name == "vgg16")
    return keras_vgg(
        {2, 2, 3, 3, 3},
        "VGG16 with top (Keras layout), 13 convs + 3 dense, 224x224x3 -> 1000 classes");
  if (name == "vgg19")
    return keras_vgg(
        {2, 2, 4, 4, 4},
        "VGG19 with top (Keras layout), 16 convs + 3 dense, 224x224x3 -> 1000 classes");
  if (name == "unet") return small_unet();
  if (name == "inception_v4") return slim_inception_v4();
  return cifar_table(name);
}

}  // namespace pipecut::zoo
