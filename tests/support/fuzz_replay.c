/* Replays a fuzz target's corpus without libFuzzer: every file under the directories (or the files)
 * given, in name order, through LLVMFuzzerTestOneInput, so any compiler and any build runs the seeds
 * and the inputs that once crashed. A crash or a failed check aborts, and ctest sees the failure; the
 * line printed last names the input. Files named README* describe a directory and are skipped. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char **paths;
static size_t path_count, path_cap;

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type != FTW_F)
		return type == FTW_NS || type == FTW_DNR ? -1 : 0;
	if (strncmp(path + ftw->base, "README", 6) == 0)
		return 0;
	if (path_count == path_cap) {
		path_cap = path_cap ? 2 * path_cap : 64;
		paths = realloc(paths, path_cap * sizeof(*paths));
		if (!paths)
			return -1;
	}
	paths[path_count] = strdup(path);
	return paths[path_count++] ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The input in a buffer of exactly its size, as libFuzzer gives it, so a read past its end is caught
 * by ASan; an empty file is a zero-length input. */
static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	uint8_t *buf;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	printf("fuzz_replay: %s (%ld bytes)\n", path, n);
	fflush(stdout);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (nftw(argv[i], collect, 16, FTW_PHYS) != 0) {
			fprintf(stderr, "fuzz_replay: cannot read %s\n", argv[i]);
			return 1;
		}
	}
	/* An empty or missing corpus would pass with nothing tested. */
	if (path_count == 0) {
		fprintf(stderr, "fuzz_replay: no inputs under the paths given\n");
		return 1;
	}
	qsort(paths, path_count, sizeof(*paths), by_name);
	for (size_t i = 0; i < path_count; i++) {
		if (replay(paths[i]) != 0)
			return 1;
		free(paths[i]);
	}
	free(paths);
	printf("fuzz_replay: %zu inputs, no failure\n", path_count);
	return 0;
}
