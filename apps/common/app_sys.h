/* Small system chores the measuring programs share. */
#ifndef SMX_APP_SYS_H
#define SMX_APP_SYS_H

/* One line "PROG: WHAT ARG (see --help)" on stderr; returns 2, the exit status of bad usage. */
int app_bad_usage(const char *prog, const char *what, const char *arg);
/* Raises the open-file limit to at least `need` descriptors (the hard limit too, as root may);
 * returns the limit now in force. */
long app_raise_nofile(long need);

#endif
