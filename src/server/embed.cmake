# cmake -DIN=<file> -DOUT=<file.cpp> -P embed.cmake: writes a C++ source whose prima::server::web_page() returns
# the bytes of IN (as a byte array: no escaping rules to get wrong).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by embed.cmake. Do not edit.\n"
  "#include \"server/web_page.h\"\n\nnamespace prima::server {\nnamespace {\n"
  "const unsigned char kPage[] = {\n${bytes}0x00};\n}  // namespace\n\n"
  "std::string_view web_page() { return {reinterpret_cast<const char*>(kPage), sizeof(kPage) - 1}; }\n\n"
  "}  // namespace prima::server\n")
file(RENAME "${OUT}.tmp" "${OUT}")
