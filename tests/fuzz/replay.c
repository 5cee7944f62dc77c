/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Corpus replay driver for builds without libFuzzer (CI, gcc): links with a
 * fuzz target and feeds it every file named on the command line, or every
 * regular file in every directory named (non-recursive, dot files skipped,
 * in name order so runs are reproducible).
 *
 *   fuzz_frames_replay DIR|FILE...
 *
 * Prints "replayed N inputs from ARG" per argument and exits 0. Exits 1 if
 * an argument is missing, unreadable or a directory without inputs, 2 on
 * usage error. A target that finds a bug aborts; the signal handler names
 * the input first, then the process dies of the same signal.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char current[4096];      /* the input being run, for the crash message */

static void write_str(const char *s)
{
	(void)!write(STDERR_FILENO, s, strlen(s));
}

static void on_crash(int sig)
{
	write_str("replay: crashed on input ");
	write_str(current);
	write_str("\n");
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read PATH whole into an exactly sized heap buffer; -1 on error. */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (f == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (nb == NULL)
				goto fail;
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	/* Exactly N bytes, so a target reading past the input is caught by ASan. */
	*data = malloc(n ? n : 1);
	if (*data == NULL) {
		free(buf);
		return -1;
	}
	memcpy(*data, buf, n);
	free(buf);
	*size = n;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

static int run_one(const char *path)
{
	uint8_t *data;
	size_t size;

	if (read_file(path, &data, &size) != 0) {
		fprintf(stderr, "replay: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	snprintf(current, sizeof(current), "%s", path);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int skip_entry(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Returns the number of inputs replayed from DIR, or -1. */
static long run_dir(const char *dir)
{
	struct dirent **names;
	char path[4096];
	struct stat st;
	long count = 0;
	int n, i;

	n = scandir(dir, &names, skip_entry, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (count >= 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (run_one(path) == 0)
					count++;
				else
					count = -1;
			}
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_crash);

	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			status = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			n = run_dir(argv[i]);
			if (n == 0)
				fprintf(stderr, "replay: %s: no inputs\n", argv[i]);
		} else {
			n = run_one(argv[i]) == 0 ? 1 : -1;
		}
		if (n <= 0) {
			status = 1;
			continue;
		}
		printf("replayed %ld inputs from %s\n", n, argv[i]);
	}
	return status;
}
