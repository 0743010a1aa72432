# embed_web.cmake - turns the console's files under web/ into a C source
# (one byte array per file) so the binary serves them without reading the
# repository at run time. Run in script mode by the build:
#   cmake -DWEB_DIR=<repo>/web -DOUT=<build>/web_embedded.c -P embed_web.cmake
# Plain CMake on purpose: no npm, no compiler for a host tool, no network.
# Hashes and gzip are computed at start (src/app/web_assets.c), where the
# --web DIR development mode computes them the same way.

file(GLOB_RECURSE files RELATIVE "${WEB_DIR}" "${WEB_DIR}/*")
list(SORT files)
set(arrays "")
set(table "")
set(index 0)
foreach(rel ${files})
  # Editor leftovers and dot files are not part of the console.
  if(rel MATCHES "(^|/)\\." OR rel MATCHES "~$")
    continue()
  endif()
  file(READ "${WEB_DIR}/${rel}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR size "${hexlen} / 2")
  # 32 bytes per line keeps the generated file readable in a debugger.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n    " bytes "${bytes}")
  # A trailing 0 keeps an empty file a valid C array; len excludes it.
  string(APPEND arrays "static const unsigned char web_file_${index}[] = {\n    ${bytes}0x00};\n")
  string(APPEND table "    {\"${rel}\", web_file_${index}, ${size}},\n")
  math(EXPR index "${index} + 1")
endforeach()

set(text "/* Generated from web/ by cmake/embed_web.cmake; do not edit. */\n")
string(APPEND text "#include \"convene/web_assets.h\"\n\n${arrays}\n")
string(APPEND text "const struct web_embedded web_embedded_files[] = {\n${table}};\n")
string(APPEND text "const size_t web_embedded_count = ${index};\n")
# Written only when changed, so an unrelated rebuild does not recompile it.
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
