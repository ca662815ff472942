#pragma once
// The flatc-generated TFLite API (from schema/tflite.fbs). Internal: include it only in the few
// files that read or build flatbuffers, since it is large to compile.
#include "tflite_generated.h"
