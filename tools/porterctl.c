/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * porterctl: the operator's view of a running porter, through the primary's
 * control socket. It never touches shared memory.
 *
 *   porterctl [--socket PATH] [--json] status
 *   porterctl [--socket PATH] [--json] restart --shard N
 *   porterctl [--socket PATH] [--json] reload | drain | stop
 *
 * Exit status: 0 ok, 1 the gateway answered with an error, 2 usage,
 * 3 cannot reach the gateway.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <limits.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/porter/porter.sock"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: porterctl [--socket PATH] [--json] COMMAND\n"
		"commands:\n"
		"  status               ports, counters, shards, workers and their standbys, mempool\n"
		"  streams [--shard N] [--state S] [--peer ADDR] [--sort KEY] [--flagged] [--limit N]\n"
		"                       every stream: state, RTT, cwnd, retransmits, bytes, age,\n"
		"                       zero-window time, flags (zero_window, tiny_mss, retransmits,\n"
		"                       many_streams); KEY: rtt, retransmits, zero_window, bytes_in,\n"
		"                       bytes_out, age (largest first)\n"
		"  restart --shard N    restart shard N's worker with the current binary (its ready\n"
		"                       standby takes over; status shows the outcome)\n"
		"  upgrade --binary PATH [--shard N] [--no-wait]\n"
		"                       roll the workers (or shard N) onto PATH, one shard at a time:\n"
		"                       PATH starts as the shard's standby, the old worker stops once\n"
		"                       it is ready; waits for the outcome unless --no-wait\n"
		"  reload               read the config file again: routes, upstreams and http apply\n"
		"                       without restarts; a bad file is refused (file:line) and the\n"
		"                       running configuration stays (SIGHUP to the primary does the same)\n"
		"  servers              every upstream server: the operator's state, health (one\n"
		"                       shard checks each server for the gateway), last check,\n"
		"                       active and idle connections, requests, failures\n"
		"  server enable|disable|drain UPSTREAM/ADDRESS:PORT\n"
		"                       drain: no new requests, checks go on; disable: the same and\n"
		"                       no checks (maintenance); enable: back in rotation\n"
		"  drain                stop gracefully, as SIGQUIT: new connections refused, idle\n"
		"                       keep-alive clients closed, exchanges in flight finished (up to\n"
		"                       workers.drain_timeout_ms), then the gateway exits\n"
		"  stop                 stop now, as SIGTERM: every stream reset, then the gateway exits\n"
		"options:\n"
		"  --socket PATH        control socket (default $PORTER_SOCKET or %s)\n"
		"  --json               machine-readable output\n"
		"  --version            print porterctl's version\n", DEFAULT_SOCKET);
}

static int request(const char *path, const char *line, char **out, size_t *outlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 65536, len = 0;
	char *buf;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "porterctl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "porterctl: cannot reach porter at %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = { .tv_sec = 10 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "porterctl: write to %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	buf = malloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (buf == NULL) {
			close(fd);
			return -1;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			fprintf(stderr, "porterctl: read from %s: %s\n", path, strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* Poll the status until the upgrade is no longer running; print its outcome. */
static int wait_upgrade(const char *sock, bool json)
{
	for (int i = 0; i < 6000; i++) {
		char *reply, *st, *msg;
		size_t len;

		if (request(sock, "status --json\n", &reply, &len) < 0)
			return 3;
		static const char key[] = "\"upgrade\":{\"state\":\"";

		st = strstr(reply, key);
		if (st && strncmp(st + sizeof(key) - 1, "running", 7) != 0) {
			bool ok = strncmp(st + sizeof(key) - 1, "done", 4) == 0;

			msg = strstr(st, "\"message\":\"");
			if (json) {
				char *end = strstr(st, "\"}");

				printf("{\"ok\":%s,%.*s}\n", ok ? "true" : "false", end ? (int)(end - st + 2) : 0, st);
			} else if (msg) {
				char *end = strchr(msg + 11, '"');

				printf("upgrade %s: %.*s\n", ok ? "done" : "FAILED",
				       end ? (int)(end - msg - 11) : 0, msg + 11);
			}
			free(reply);
			return ok ? 0 : 1;
		}
		free(reply);
		usleep(20000);
	}
	fprintf(stderr, "porterctl: upgrade still running after 120 s\n");
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "shard", required_argument, NULL, 'n' },
		{ "binary", required_argument, NULL, 'b' },
		{ "no-wait", no_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "state", required_argument, NULL, 'S' },
		{ "peer", required_argument, NULL, 'P' },
		{ "sort", required_argument, NULL, 'O' },
		{ "flagged", no_argument, NULL, 'F' },
		{ "limit", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("PORTER_SOCKET") ? getenv("PORTER_SOCKET") : DEFAULT_SOCKET;
	const char *shard = NULL, *binary = NULL;
	char filt[192] = "";   /* porterctl streams: state= peer= sort= flagged limit= */
	bool json = false, nowait = false;
	char line[256];
	char *reply;
	size_t len;
	int c;

	while ((c = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'n': shard = optarg; break;
		case 'b': binary = optarg; break;
		case 'W': nowait = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("porterctl %s\n", PORTER_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind++];

	/* options may also follow the command: porterctl restart --shard 1 --json */
	while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		size_t fl = strlen(filt);

		switch (c) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'n': shard = optarg; break;
		case 'b': binary = optarg; break;
		case 'W': nowait = true; break;
		case 'S': case 'P': case 'O': case 'L':
			if (strpbrk(optarg, " \t\n") || strlen(optarg) > 40) {
				fprintf(stderr, "porterctl: bad value \"%s\"\n", optarg);
				return 2;
			}
			snprintf(filt + fl, sizeof(filt) - fl, " %s=%s",
				 c == 'S' ? "state" : c == 'P' ? "peer" : c == 'O' ? "sort" : "limit", optarg);
			break;
		case 'F': snprintf(filt + fl, sizeof(filt) - fl, " flagged"); break;
		default: usage(stderr); return 2;
		}
	}
	if (strcmp(cmd, "server") == 0) {
		/* porterctl server enable|disable|drain UPSTREAM/ADDRESS:PORT */
		if (optind + 2 != argc || strpbrk(argv[optind + 1], " \t\n") || strlen(argv[optind + 1]) > 200) {
			fprintf(stderr, "porterctl: usage: server enable|disable|drain UPSTREAM/ADDRESS:PORT\n");
			return 2;
		}
		snprintf(line, sizeof(line), "server %s %s%s\n", argv[optind], argv[optind + 1], json ? " --json" : "");
		optind = argc;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "server") == 0) {
		/* the line is made */
	} else if (strcmp(cmd, "status") == 0) {
		snprintf(line, sizeof(line), "status%s\n", json ? " --json" : "");
	} else if (strcmp(cmd, "streams") == 0) {
		snprintf(line, sizeof(line), "streams%s%s%s%s\n", shard ? " " : "", shard ? shard : "", filt,
			 json ? " --json" : "");
	} else if (strcmp(cmd, "upgrade") == 0) {
		char real[4096];

		if (binary == NULL) {
			fprintf(stderr, "porterctl: upgrade needs --binary PATH\n");
			return 2;
		}
		if (realpath(binary, real) == NULL) {
			fprintf(stderr, "porterctl: %s: %s\n", binary, strerror(errno));
			return 2;
		}
		if (strpbrk(real, " \t\n") || strlen(real) > 200) {
			fprintf(stderr, "porterctl: %s: paths with blanks or over 200 bytes are not supported\n", real);
			return 2;
		}
		snprintf(line, sizeof(line), "upgrade %s%s%s\n", real, shard ? " " : "", shard ? shard : "");
		if (request(sock, line, &reply, &len) < 0)
			return 3;
		if (strncmp(reply, "ok\n", 3) != 0) {
			fprintf(stderr, "porterctl: %s", reply);
			free(reply);
			return 1;
		}
		free(reply);
		return nowait ? 0 : wait_upgrade(sock, json);
	} else if (strcmp(cmd, "reload") == 0 || strcmp(cmd, "drain") == 0 || strcmp(cmd, "stop") == 0 ||
		   strcmp(cmd, "servers") == 0) {
		snprintf(line, sizeof(line), "%s%s\n", cmd, json ? " --json" : "");
	} else if (strcmp(cmd, "restart") == 0) {
		char *end;

		if (shard == NULL || (strtoul(shard, &end, 10), *end) || !*shard) {
			fprintf(stderr, "porterctl: restart needs --shard N\n");
			return 2;
		}
		snprintf(line, sizeof(line), "restart %s%s\n", shard, json ? " --json" : "");
	} else {
		fprintf(stderr, "porterctl: unknown command \"%s\"\n", cmd);
		usage(stderr);
		return 2;
	}
	if (request(sock, line, &reply, &len) < 0)
		return 3;
	if (json) {
		fputs(reply, stdout);
		return strstr(reply, "\"ok\":true") == reply + 1 ? 0 : 1;
	}
	if (strncmp(reply, "ok\n", 3) == 0) {
		fputs(reply + 3, stdout);
		free(reply);
		return 0;
	}
	fprintf(stderr, "porterctl: %s", len ? reply : "empty reply\n");
	free(reply);
	return 1;
}
