#pragma once
// UTF-8 validity (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). Avro
// strings must be UTF-8, and whatever the bridge writes into a JSON record must be valid text.

#include <string_view>

namespace sfkb::avro {

bool valid_utf8(std::string_view text);

}  // namespace sfkb::avro
