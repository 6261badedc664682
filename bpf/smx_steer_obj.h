/* The compiled steering program (smx_steer.bpf.o), embedded by the build as a byte array so binaries
 * need no object file beside them. */
#ifndef SMX_STEER_OBJ_H
#define SMX_STEER_OBJ_H

#include <stddef.h>

extern const unsigned char smx_steer_obj[];
extern const size_t smx_steer_obj_len;

#endif
