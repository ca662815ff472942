#pragma once
// Text for HTML and SVG: & < > " escaped (the SVG figures and the HTML report).
#include <string>

namespace pipecut {

std::string xml_escape(const std::string& text);

}  // namespace pipecut
