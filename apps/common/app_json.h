/* JSON output the measuring programs share: a string written with the escapes JSON requires. */
#ifndef SMX_APP_JSON_H
#define SMX_APP_JSON_H

#include <stdio.h>

/* s between double quotes, with '"', '\\' and control characters escaped; NULL prints "". */
void app_json_string(FILE *out, const char *s);

#endif
