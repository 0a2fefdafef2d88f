/* shard.c - llm.c token shard headers and the shard folder lock (see shard.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"
#include "le.h"
#include "shard.h"

int cm_shard_width(uint32_t vocab_size)
{
	return vocab_size <= 65536 ? 2 : 4;
}

void cm_shard_header(unsigned char h[CM_SHARD_HEADER], int width, uint64_t ntok)
{
	memset(h, 0, CM_SHARD_HEADER);
	cm_put32(h, width == 2 ? CM_SHARD_MAGIC16 : CM_SHARD_MAGIC32);
	cm_put32(h + 4, width == 2 ? 1 : 7);
	cm_put32(h + 8, (uint32_t)ntok);
}

int cm_shard_parse(const unsigned char h[CM_SHARD_HEADER], int64_t file_size, cm_shard_hdr *sh,
		   char *err, size_t errlen)
{
	uint32_t magic = cm_get32(h), version = cm_get32(h + 4), n = cm_get32(h + 8);

	if (magic == CM_SHARD_MAGIC16 && version == 1) {
		sh->width = 2;
	} else if (magic == CM_SHARD_MAGIC32 && version == 7) {
		sh->width = 4;
	} else if (magic == CM_SHARD_MAGIC16 || magic == CM_SHARD_MAGIC32) {
		snprintf(err, errlen, "shard version %u with magic %u is not known", version, magic);
		return -1;
	} else {
		snprintf(err, errlen, "not a token shard (magic %u)", magic);
		return -1;
	}
	if (n > CM_SHARD_MAX_TOKENS) {
		snprintf(err, errlen, "shard header gives a negative token count");
		return -1;
	}
	sh->ntok = n;
	if (file_size >= 0 && (uint64_t)file_size != CM_SHARD_HEADER + sh->ntok * (uint64_t)sh->width) {
		snprintf(err, errlen, "shard is %lld bytes, its header says %llu tokens (%llu bytes)",
			 (long long)file_size, (unsigned long long)sh->ntok,
			 (unsigned long long)(CM_SHARD_HEADER + sh->ntok * (uint64_t)sh->width));
		return -1;
	}
	return 0;
}

/* The pid in a lock file whose lock another holds: that process may have the lock a moment
 * before it writes its pid over the last holder's, so wait a little for a live one. */
static long lock_pid(int fd)
{
	const struct timespec pause = { 0, 5000000 };
	int tries;

	for (tries = 0; tries < 40; tries++) {
		char b[32], *end;
		ssize_t n = pread(fd, b, sizeof b - 1, 0);
		long pid;

		b[n > 0 ? n : 0] = '\0';
		pid = strtol(b, &end, 10);
		if (n > 0 && end != b && *end == '\n' && pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			return pid;
		nanosleep(&pause, NULL);
	}
	return 0;
}

int cm_shard_lock(const char *dir, int exclusive, cm_shard_holder *who)
{
	char path[4096];
	int fd, e;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, CM_SHARD_LOCK_FILE) >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* non-blocking opens: a FIFO in the lock's place must not hang us */
	fd = exclusive ? open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666) :
			 open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && exclusive && errno == EACCES)
		/* another user's lock file in a folder we may write: flock needs no write access
		 * (the pid goes unsaid) */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return !exclusive && errno == ENOENT ? CM_SHARD_LOCK_NONE : -1;
	{
		struct stat st;

		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			errno = EINVAL;	/* not a lock file of ours */
			return -1;
		}
	}
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) {
		if (exclusive) {
			char b[32];
			int n = snprintf(b, sizeof b, "%ld\n", (long)getpid()), said;

			/* the pid is only for the messages of runs that find the folder locked: not
			 * saying it (a full disk) does not stop this run */
			said = ftruncate(fd, 0) == 0 && pwrite(fd, b, (size_t)n, 0) == n;
			(void)said;
		}
		return fd;
	}
	e = errno;
	if (e == EWOULDBLOCK && who) {
		/* a shared lock is free unless a writer holds the folder */
		who->writing = !exclusive || flock(fd, LOCK_SH | LOCK_NB) < 0;
		who->pid = who->writing ? lock_pid(fd) : 0;
	}
	close(fd);
	errno = e;
	return -1;
}

int cm_shard_lock_read(const char *dir, char *err, size_t errlen)
{
	cm_shard_holder who;
	int fd = cm_shard_lock(dir, 0, &who);

	if (fd >= 0 || fd == CM_SHARD_LOCK_NONE)
		return fd;
	if (errno == EWOULDBLOCK && who.pid)
		snprintf(err, errlen, "cannot read the shards in '%s': shard-pack (pid %ld) is writing them", dir,
			 who.pid);
	else if (errno == EWOULDBLOCK)
		snprintf(err, errlen, "cannot read the shards in '%s': a shard-pack run is writing them", dir);
	else
		snprintf(err, errlen, "cannot lock '%s/%s' for reading: %s", dir, CM_SHARD_LOCK_FILE,
			 strerror(errno));
	return -1;
}

json_t *cm_shard_manifest_files(const char *path, char *err, size_t errlen)
{
	json_t *m = cm_json_load_file(path, 64 << 20, err, errlen), *s, *files;
	size_t i;

	if (!m)
		return NULL;
	files = json_object();
	json_array_foreach(json_object_get(m, "shards"), i, s) {
		const char *file = json_string_value(json_object_get(s, "file"));
		json_t *t = json_object_get(s, "tokens");

		if (file)
			json_object_set(files, file, json_is_integer(t) ? t : json_null());
	}
	json_decref(m);
	return files;
}
