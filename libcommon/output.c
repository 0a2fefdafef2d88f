/* output.c - buffered output to stdout or a file, plain or gzip (-z). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#ifdef CM_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include "cli.h"
#include "output.h"

#define OUT_BUF (1u << 20)

struct cm_output {
	int fd;
	char *name;
	int gzip;
	int atomic;		/* written through af */
	cm_afile af;
	char *buf;
	size_t len;
	uint64_t bytes;
	unsigned char *zbuf;
	z_stream z;
#ifdef CM_HAVE_ISAL
	struct isal_zstream *isal;
	uint8_t *level_buf;
#endif
};

/* ---- files replaced whole ---- */

/* Temporaries not yet committed: removed at exit (cm_die exits through here too) and, where
 * the program left SIGINT, SIGTERM and SIGHUP to their default, when one of them ends it.
 * Slots, not a list, so that a signal handler can walk them. */
#define PENDING_MAX 256
static char *volatile pending[PENDING_MAX];

static void pending_cleanup(void)
{
	for (int i = 0; i < PENDING_MAX; i++)
		if (pending[i])
			unlink(pending[i]);
}

static void pending_signal(int sig)
{
	pending_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void pending_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };

	atexit(pending_cleanup);
	for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++) {
		struct sigaction sa;

		/* a program's own handler (lm-train's checkpoint on SIGTERM) stays */
		if (sigaction(sigs[k], NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
			signal(sigs[k], pending_signal);
	}
}

static void pending_add(char *tmp)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, pending_init);
	for (int i = 0; i < PENDING_MAX; i++) {
		char *none = NULL;

		if (__atomic_compare_exchange_n(&pending[i], &none, tmp, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			return;
	}
	/* more at once than the slots: this one is only removed by commit or abort */
}

static void pending_del(const char *tmp)
{
	for (int i = 0; i < PENDING_MAX; i++)
		if (pending[i] == tmp) {
			pending[i] = NULL;
			return;
		}
}

#define AF_ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* The descriptor of this process that path names, or -1: "-", /dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N, or any name of the file standard output or error is open on
 * (a shell's `-o /dev/stdout >>log`: the log is appended to, never replaced). */
static int own_descriptor(const char *path, const struct stat *st, int exists)
{
	static const char *const pre[] = { "/dev/fd/", "/proc/self/fd/" };
	struct stat fs;

	if (!strcmp(path, "-") || !strcmp(path, "/dev/stdout"))
		return 1;
	if (!strcmp(path, "/dev/stderr"))
		return 2;
	for (size_t k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
		size_t n = strlen(pre[k]);
		char *end;
		long fd;

		if (strncmp(path, pre[k], n) || path[n] < '0' || path[n] > '9')
			continue;
		fd = strtol(path + n, &end, 10);
		if (!*end && fd <= INT_MAX && fcntl((int)fd, F_GETFD) >= 0)
			return (int)fd;
	}
	for (int fd = 1; exists && fd <= 2; fd++)
		if (fstat(fd, &fs) == 0 && fs.st_dev == st->st_dev && fs.st_ino == st->st_ino)
			return fd;
	return -1;
}

/* Write through to an existing file in place: no rename is possible or wanted. */
static int open_through(cm_afile *a, const char *path, int flags, char *err, size_t errlen)
{
	a->fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0666);
	if (a->fd < 0)
		return AF_ERR("cannot create '%s': %s", path, strerror(errno));
	a->path = cm_xstrdup(path);
	return 0;
}

/* A temporary beside target: target.tmp.PID.N, or DIR/.crawl2lm.tmp.PID.N when the name
 * would grow too long. -1 with errno when none can be made. */
static int make_tmp(cm_afile *a, const char *target)
{
	static unsigned counter;
	const char *slash = strrchr(target, '/'), *base = slash ? slash + 1 : target;
	int shortname = strlen(base) + 32 > NAME_MAX;
	size_t n = strlen(target) + 64;

	a->tmp = cm_xmalloc(n);
	do {
		unsigned k = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);

		if (shortname)
			snprintf(a->tmp, n, "%.*s.crawl2lm.tmp.%ld.%u", (int)(base - target), target,
				 (long)getpid(), k);
		else
			snprintf(a->tmp, n, "%s.tmp.%ld.%u", target, (long)getpid(), k);
		a->fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	} while (a->fd < 0 && errno == EEXIST);
	if (a->fd < 0) {
		int e = errno;

		free(a->tmp);
		a->tmp = NULL;
		errno = e;
		return -1;
	}
	pending_add(a->tmp);
	return 0;
}

int cm_afile_open(cm_afile *a, const char *path, char *err, size_t errlen)
{
	struct stat st, lst;
	char *real = NULL;
	const char *target;
	int exists, islink, e, fd, rc;

	memset(a, 0, sizeof(*a));
	a->fd = -1;
	exists = stat(path, &st) == 0;
	if ((fd = own_descriptor(path, &st, exists)) >= 0) {
		fflush(fd == 2 ? stderr : stdout);
		if ((a->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
			e = errno;
			return AF_ERR("cannot write to %s: %s", fd == 1 ? "standard output" : path, strerror(e));
		}
		a->path = cm_xstrdup(fd == 1 ? "standard output" : path);
		return 0;
	}
	if (exists && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return AF_ERR("cannot create '%s': %s", path, strerror(EISDIR));
	}
	islink = lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode);
	if ((exists && !S_ISREG(st.st_mode)) || (!exists && islink)) {
		/* a device, FIFO or socket, or a dangling link (created where it points, in
		 * place): nothing to rename over */
		return open_through(a, path, O_CREAT | O_TRUNC, err, errlen);
	}
	if (islink && !(real = realpath(path, NULL)))
		return AF_ERR("cannot resolve '%s': %s", path, strerror(errno));
	target = real ? real : path;
	/* a file the user may not write is not replaced behind its back */
	if (exists && access(target, W_OK) < 0) {
		e = errno;
		free(real);
		errno = e;
		return AF_ERR("cannot write '%s': %s", path, strerror(e));
	}
	if (make_tmp(a, target) < 0) {
		e = errno;
		/* a folder the user may not add to, holding a file they may write: in place */
		rc = exists ? open_through(a, target, O_TRUNC, err, errlen) :
			      AF_ERR("cannot create '%s': %s", path, strerror(e));
		free(real);
		return rc;
	}
	if (exists) {
		/* a replaced file keeps its permissions and, where we may set it, its owner */
		if (fchmod(a->fd, st.st_mode & 07777) < 0) {
			e = errno;
			cm_afile_abort(a);
			free(real);
			errno = e;
			return AF_ERR("cannot set the permissions of '%s': %s", path, strerror(e));
		}
		if (geteuid() == 0 && (st.st_uid != 0 || st.st_gid != 0) && fchown(a->fd, st.st_uid, st.st_gid) < 0) {
			e = errno;
			cm_afile_abort(a);
			free(real);
			errno = e;
			return AF_ERR("cannot set the owner of '%s': %s", path, strerror(e));
		}
	}
	a->path = cm_xstrdup(target);
	free(real);
	return 0;
}

int cm_afile_write(cm_afile *a, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t k = write(a->fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

int cm_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r, e;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	if (r < 0 && e == EINVAL)
		return 0;
	errno = e;
	return r;
}

int cm_afile_commit(cm_afile *a, char *err, size_t errlen)
{
	int rc = 0, e = 0;
	const char *what = NULL;

	if (a->tmp && fsync(a->fd) < 0)
		e = errno, what = "write";
	if (close(a->fd) < 0 && !what)
		e = errno, what = "close";
	a->fd = -1;
	if (!what && a->tmp && rename(a->tmp, a->path) < 0)
		e = errno, what = "rename a temporary file to";
	if (!what && a->tmp) {
		/* the folder holding it, so that the rename itself survives a crash */
		const char *slash = strrchr(a->path, '/');
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%.*s", slash ? (slash == a->path ? 1 : (int)(slash - a->path)) : 1,
			 slash ? a->path : ".");
		if (cm_sync_dir(dir) < 0)
			e = errno, what = "sync the folder of";
	}
	if (what) {
		rc = a->tmp ? AF_ERR("cannot %s '%s': %s", what, a->path, strerror(e)) :
			      AF_ERR("cannot %s %s%s%s: %s", what, strcmp(a->path, "standard output") ? "'" : "",
				     a->path, strcmp(a->path, "standard output") ? "'" : "", strerror(e));
		if (a->tmp)
			unlink(a->tmp);
	}
	if (a->tmp) {
		pending_del(a->tmp);
		free(a->tmp);
	}
	free(a->path);
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	errno = e;
	return rc;
}

void cm_afile_abort(cm_afile *a)
{
	if (a->fd >= 0)
		close(a->fd);
	if (a->tmp) {
		unlink(a->tmp);
		pending_del(a->tmp);
		free(a->tmp);
	}
	free(a->path);
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

int cm_afile_put(const char *path, const void *p, size_t n, char *err, size_t errlen)
{
	cm_afile a;

	if (cm_afile_open(&a, path, err, errlen) < 0)
		return -1;
	if (cm_afile_write(&a, p, n) < 0) {
		int e = errno;

		cm_afile_abort(&a);
		errno = e;
		return AF_ERR("cannot write '%s': %s", path, strerror(e));
	}
	return cm_afile_commit(&a, err, errlen);
}

/* ---- buffered output ---- */

static void write_all(cm_output *o, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t k = write(o->fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			if (errno == EPIPE)
				raise(SIGPIPE);
			cm_die("cannot write to %s: %s", o->name, strerror(errno));
		}
		s += k;
		n -= (size_t)k;
	}
}

static cm_output *output_open(const char *path, int gzip, int atomic)
{
	cm_output *o = cm_xcalloc(1, sizeof(*o));
	char name[4096];

	if (!path || strcmp(path, "-") == 0) {
		/* Whatever stdio holds goes first. */
		fflush(stdout);
		o->fd = 1;
		snprintf(name, sizeof(name), "standard output");
	} else if (atomic) {
		char err[4200];

		if (cm_afile_open(&o->af, path, err, sizeof(err)) < 0)
			cm_die("%s", err);
		o->atomic = 1;
		o->fd = o->af.fd;
		snprintf(name, sizeof(name), "'%s'", path);
	} else {
		o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (o->fd < 0)
			cm_die("cannot create '%s': %s", path, strerror(errno));
		snprintf(name, sizeof(name), "'%s'", path);
	}
	o->name = cm_xstrdup(name);
	o->gzip = gzip;
	o->buf = cm_xmalloc(OUT_BUF);
	if (gzip) {
		o->zbuf = cm_xmalloc(OUT_BUF);
#ifdef CM_HAVE_ISAL
		o->isal = cm_xcalloc(1, sizeof(*o->isal));
		isal_deflate_init(o->isal);
		o->isal->level = 1;
		o->level_buf = cm_xmalloc(ISAL_DEF_LVL1_DEFAULT);
		o->isal->level_buf = o->level_buf;
		o->isal->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
		o->isal->gzip_flag = IGZIP_GZIP;
#else
		if (deflateInit2(&o->z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			cm_die("cannot initialise zlib");
#endif
	}
	return o;
}

cm_output *cm_output_open(const char *path, int gzip)
{
	return output_open(path, gzip, 0);
}

cm_output *cm_output_open_atomic(const char *path, int gzip)
{
	return output_open(path, gzip, 1);
}

static void compress_out(cm_output *o, const char *p, size_t n, int last)
{
#ifdef CM_HAVE_ISAL
	struct isal_zstream *s = o->isal;

	s->next_in = (uint8_t *)p;
	s->avail_in = (uint32_t)n;
	s->end_of_stream = (uint16_t)last;
	do {
		s->next_out = o->zbuf;
		s->avail_out = OUT_BUF;
		if (isal_deflate(s) != COMP_OK)
			cm_die("gzip compression failed");
		write_all(o, o->zbuf, OUT_BUF - s->avail_out);
	} while (s->avail_in > 0 || (last && s->internal_state.state != ZSTATE_END));
#else
	z_stream *z = &o->z;
	int ret;

	z->next_in = (Bytef *)p;
	z->avail_in = (uInt)n;
	do {
		z->next_out = o->zbuf;
		z->avail_out = OUT_BUF;
		ret = deflate(z, last ? Z_FINISH : Z_NO_FLUSH);
		if (ret == Z_STREAM_ERROR)
			cm_die("gzip compression failed");
		write_all(o, o->zbuf, OUT_BUF - z->avail_out);
	} while (z->avail_in > 0 || (last && ret != Z_STREAM_END));
#endif
}

static void flush(cm_output *o, int last)
{
	if (o->gzip)
		compress_out(o, o->buf, o->len, last);
	else
		write_all(o, o->buf, o->len);
	o->len = 0;
}

void cm_output_write(cm_output *o, const void *p, size_t n)
{
	if (!n)
		return;	/* p may be NULL then */
	o->bytes += n;
	/* large pieces skip the copy into the buffer */
	if (n >= OUT_BUF / 8 && !o->gzip) {
		flush(o, 0);
		write_all(o, p, n);
		return;
	}
	if (n >= OUT_BUF) {
		flush(o, 0);
		if (o->gzip) {
			const char *s = p;

			while (n > 0) {
				size_t k = n > OUT_BUF ? OUT_BUF : n;

				compress_out(o, s, k, 0);
				s += k;
				n -= k;
			}
		} else {
			write_all(o, p, n);
		}
		return;
	}
	if (OUT_BUF - o->len < n)
		flush(o, 0);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void output_free(cm_output *o)
{
#ifdef CM_HAVE_ISAL
	free(o->isal);
	free(o->level_buf);
#else
	if (o->gzip)
		deflateEnd(&o->z);
#endif
	free(o->zbuf);
	free(o->buf);
	free(o->name);
	free(o);
}

void cm_output_close(cm_output *o)
{
	if (!o)
		return;
	flush(o, 1);
	if (o->atomic) {
		char err[4200];

		if (cm_afile_commit(&o->af, err, sizeof(err)) < 0)
			cm_die("%s", err);
	} else if (o->fd == 1) {
		/* stdout stays open for stdio's own checked close */
	} else if (close(o->fd) != 0) {
		cm_die("cannot close %s: %s", o->name, strerror(errno));
	}
	output_free(o);
}

void cm_output_abort(cm_output *o)
{
	if (!o)
		return;
	if (o->atomic)
		cm_afile_abort(&o->af);
	else if (o->fd != 1)
		close(o->fd);
	output_free(o);
}

uint64_t cm_output_bytes(const cm_output *o)
{
	return o->bytes;
}
