/*
 * linkcheck kernel oracle.
 *
 * Usage: oracle ROOT                 (resolve mode)
 *        oracle --root-hex HEX      (same, ROOT given as hex bytes: lets callers
 *                                    pass arbitrary bytes through argv)
 *        oracle --as UID:GID:GROUPS ROOT | --root-hex HEX
 *                                   (same, as another user: GROUPS is a comma-separated
 *                                    list of supplementary gids, possibly empty)
 *        oracle --probe             (exit 0 if openat2(RESOLVE_IN_ROOT) works here)
 *
 * Reads NUL-terminated host absolute paths of symlinks located under ROOT
 * from stdin. For each, writes one record:
 *   CHROOT_STATUS \t ERRNO \t HEX \t HOST_STATUS \t ERRNO \t HEX \n
 * STATUS is ok|dangling|loop|notdir|denied|error, ERRNO is the symbolic errno
 * name or "-", HEX is the lowercase hex of the resolved path ("-" if not ok).
 *
 * chroot view: openat2(rootfd, path-minus-ROOT, O_PATH|O_CLOEXEC,
 *              RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS), result re-expressed
 *              relative to ROOT ("/"-based).
 * host view:   open(path, O_PATH|O_CLOEXEC).
 * Both follow the final symlink (no O_NOFOLLOW), exactly like open().
 *
 * With --as, ROOT is opened with the caller's credentials first (a chrooted server opens its
 * root, or chroots, before it drops privileges), then the process takes the supplementary
 * groups, the gid and the uid (setgroups, setresgid, setresuid: in that order, for good) and
 * answers every path as that user: the jail view walks from the root fd, so the directories
 * above ROOT are never searched; the host view walks from / with the user's credentials.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

#ifndef HAVE_OPENAT2_H
struct open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437 /* same number on all architectures */
#endif
#ifndef O_PATH
#define O_PATH 010000000
#endif

static const char *errno_name(int e)
{
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
	E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES)
	E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
	E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG)
	E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(ERANGE)
	E(ENAMETOOLONG) E(ENOSYS) E(ELOOP) E(EOVERFLOW) E(EOPNOTSUPP)
	E(ESTALE) E(EDEADLK) E(ENOLCK) E(ENOTEMPTY) E(ETXTBSY)
#ifdef ENOMEDIUM
	E(ENOMEDIUM)
#endif
#ifdef EREMOTE
	E(EREMOTE)
#endif
#ifdef ENOLINK
	E(ENOLINK)
#endif
#undef E
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static const char *status_of(int e)
{
	switch (e) {
	case 0: return "ok";
	case ENOENT: return "dangling";
	case ELOOP: return "loop";
	case ENOTDIR: return "notdir";
	case EACCES: return "denied";
	default: return "error";
	}
}

static long do_openat2(int dirfd, const char *path, uint64_t resolve)
{
	struct open_how how;
	long fd;
	int tries = 0;
	memset(&how, 0, sizeof how);
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = resolve;
	/* RESOLVE_IN_ROOT returns EAGAIN when a concurrent rename/mount makes a
	 * ".." step unsafe to verify; just retry. ELOOP is asked again too: a
	 * walk that must restart out of RCU mode (a rename or mount anywhere on
	 * the system, e.g. another test file running beside this one) keeps the
	 * links it already followed in its count, so a chain of 30 links can
	 * fail with ELOOP under load. A real ELOOP fails every time. */
	do {
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
	} while (fd < 0 && (errno == EAGAIN || errno == EINTR || (errno == ELOOP && tries < 8)) && ++tries < 64);
	return fd;
}

/* open(2) for the host view, ELOOP asked again for the same reason. */
static int open_host(const char *path)
{
	int fd, tries = 0;
	do {
		fd = open(path, O_PATH | O_CLOEXEC);
	} while (fd < 0 && (errno == EINTR || (errno == ELOOP && tries < 8)) && ++tries < 64);
	return fd;
}

/* readlink /proc/self/fd/N into buf (NUL-terminated); returns length or -errno. */
static long fd_path(int fd, char *buf, size_t cap)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, buf, cap - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= cap - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return n;
}

static void put_hex(FILE *out, const unsigned char *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	if (n == 0) { /* never happens for a resolved path, but keep it parseable */
		fputc('-', out);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		fputc(digits[s[i] >> 4], out);
		fputc(digits[s[i] & 15], out);
	}
}

static void put_view(FILE *out, int err, const char *path, size_t len)
{
	fputs(status_of(err), out);
	fputc('\t', out);
	fputs(err ? errno_name(err) : "-", out);
	fputc('\t', out);
	if (err)
		fputc('-', out);
	else
		put_hex(out, (const unsigned char *)path, len);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Decode hex in place; returns 0 on success. */
static int unhex(char *s)
{
	size_t n = strlen(s), j = 0;
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			return -1;
		s[j++] = (char)(hi * 16 + lo);
	}
	s[j] = '\0';
	return 0;
}

static int probe(void)
{
	int fd = (int)do_openat2(AT_FDCWD, "/", RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (fd < 0) {
		printf("%s\n", errno_name(errno));
		return 3;
	}
	close(fd);
	printf("ok\n");
	return 0;
}

/* Parses "UID:GID:G1,G2,..." (the groups possibly empty); returns 0 on success. */
static int parse_creds(const char *s, uid_t *uid, gid_t *gid, gid_t *groups, size_t *ngroups, size_t cap)
{
	char *end;
	unsigned long u = strtoul(s, &end, 10);
	if (end == s || *end != ':')
		return -1;
	s = end + 1;
	unsigned long g = strtoul(s, &end, 10);
	if (end == s || *end != ':')
		return -1;
	s = end + 1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	*ngroups = 0;
	while (*s) {
		if (*ngroups == cap)
			return -1;
		unsigned long x = strtoul(s, &end, 10);
		if (end == s || (*end != ',' && *end != '\0'))
			return -1;
		groups[(*ngroups)++] = (gid_t)x;
		s = *end == ',' ? end + 1 : end;
	}
	return 0;
}

/* Takes the credentials for good; returns 0, or prints why not and returns -1. */
static int drop_to(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups)
{
	if (setgroups(ngroups, groups) != 0) {
		perror("oracle: setgroups");
		return -1;
	}
	if (setresgid(gid, gid, gid) != 0) {
		perror("oracle: setresgid");
		return -1;
	}
	if (setresuid(uid, uid, uid) != 0) {
		perror("oracle: setresuid");
		return -1;
	}
	/* Check: these are the credentials now, and there is no way back to root. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid) {
		fprintf(stderr, "oracle: credentials not taken\n");
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		fprintf(stderr, "oracle: could take uid 0 back after dropping it\n");
		return -1;
	}
	/* Keep /proc/self/fd readable as before (a uid change makes the process non-dumpable). */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--probe") == 0)
		return probe();
	int as = 0;
	uid_t as_uid = 0;
	gid_t as_gid = 0;
	static gid_t as_groups[65536];
	size_t as_ngroups = 0;
	if (argc >= 3 && strcmp(argv[1], "--as") == 0) {
		if (parse_creds(argv[2], &as_uid, &as_gid, as_groups, &as_ngroups,
				sizeof as_groups / sizeof as_groups[0]) != 0) {
			fprintf(stderr, "oracle: --as takes UID:GID:G1,G2,... (groups may be empty)\n");
			return 2;
		}
		as = 1;
		argc -= 2;
		argv += 2;
	}
	char *root = NULL;
	if (argc == 2 && strcmp(argv[1], "--root-hex") != 0)
		root = argv[1];
	else if (argc == 3 && strcmp(argv[1], "--root-hex") == 0 && unhex(argv[2]) == 0)
		root = argv[2];
	if (!root || root[0] != '/') {
		fprintf(stderr, "usage: oracle [--as UID:GID:GROUPS] ROOT | oracle [--as UID:GID:GROUPS] --root-hex HEX  "
				"(ROOT absolute; NUL-terminated paths on stdin)\n");
		return 2;
	}

	/* Normalise ROOT: drop trailing slashes (but keep "/"). */
	size_t rootlen = strlen(root);
	while (rootlen > 1 && root[rootlen - 1] == '/')
		root[--rootlen] = '\0';
	int root_is_slash = (rootlen == 1);

	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		fprintf(stderr, "oracle: cannot open root %s: %s\n", root, strerror(errno));
		return 2;
	}
	/* The root is held; from here on every lookup is the user's. */
	if (as && drop_to(as_uid, as_gid, as_groups, as_ngroups) != 0)
		return 2;

	/* Slurp stdin. */
	size_t cap = 1 << 16, len = 0;
	char *in = malloc(cap);
	if (!in)
		return 2;
	for (;;) {
		if (len == cap) {
			cap *= 2;
			char *p = realloc(in, cap);
			if (!p)
				return 2;
			in = p;
		}
		ssize_t n = read(0, in + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("oracle: read");
			return 2;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}

	static char outbuf[1 << 20];
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	static char res[PATH_MAX * 2];

	size_t pos = 0;
	while (pos < len) {
		char *path = in + pos;
		char *nul = memchr(path, '\0', len - pos);
		if (!nul) { /* unterminated last path: accept it */
			if (len == cap) {
				char *p = realloc(in, cap + 1);
				if (!p)
					return 2;
				in = p;
				path = in + pos;
			}
			in[len] = '\0';
			nul = in + len;
			len++;
		}
		size_t plen = (size_t)(nul - path);
		pos += plen + 1;

		/* --- chroot view --- */
		const char *rel = NULL;
		if (root_is_slash) {
			if (path[0] == '/')
				rel = path;
		} else if (plen >= rootlen && memcmp(path, root, rootlen) == 0 &&
			   (path[rootlen] == '/' || path[rootlen] == '\0')) {
			rel = path + rootlen; /* "/a/b" or "" */
		}
		if (!rel) {
			put_view(stdout, EINVAL, NULL, 0);
		} else {
			/* Absolute paths are taken relative to the root under
			 * RESOLVE_IN_ROOT; "" would be rejected, use ".". */
			long fd = do_openat2(rootfd, rel[0] ? rel : ".",
					     RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
			if (fd < 0) {
				put_view(stdout, errno, NULL, 0);
			} else {
				long n = fd_path((int)fd, res, sizeof res);
				close((int)fd);
				if (n < 0) {
					put_view(stdout, (int)-n, NULL, 0);
				} else if (root_is_slash) {
					put_view(stdout, 0, res, (size_t)n);
				} else if ((size_t)n == rootlen && memcmp(res, root, rootlen) == 0) {
					put_view(stdout, 0, "/", 1);
				} else if ((size_t)n > rootlen && memcmp(res, root, rootlen) == 0 &&
					   res[rootlen] == '/') {
					put_view(stdout, 0, res + rootlen, (size_t)n - rootlen);
				} else {
					/* Outside the root: should be impossible with
					 * RESOLVE_IN_ROOT (bind mount / race). */
					put_view(stdout, EXDEV, NULL, 0);
				}
			}
		}
		fputc('\t', stdout);

		/* --- host view --- */
		int hfd = open_host(path);
		if (hfd < 0) {
			put_view(stdout, errno, NULL, 0);
		} else {
			long n = fd_path(hfd, res, sizeof res);
			close(hfd);
			if (n < 0)
				put_view(stdout, (int)-n, NULL, 0);
			else
				put_view(stdout, 0, res, (size_t)n);
		}
		fputc('\n', stdout);
	}

	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("oracle: write");
		return 2;
	}
	free(in);
	close(rootfd);
	return 0;
}
