# cmake -DIN=file.o -DOUT=file.c -P embed.cmake: writes the bytes of IN as the C array smx_steer_obj
# declared in smx_steer_obj.h.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* Generated from smx_steer.bpf.o by bpf/embed.cmake. Do not edit. */\n"
                  "#include \"smx_steer_obj.h\"\n\n"
                  "const unsigned char smx_steer_obj[] = {\n${bytes}\n};\n"
                  "const size_t smx_steer_obj_len = ${len};\n")
