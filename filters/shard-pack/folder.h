/* folder.h - shard-pack's output folder: its lock, an earlier run's files, and the names a
 * trainer's glob would take for shards. */
#ifndef SP_FOLDER_H
#define SP_FOLDER_H
#include <stddef.h>

/* A list of file names (sp_names_sort before sp_names_has). */
typedef struct sp_names {
	char **v;
	size_t n, cap;
} sp_names;
void sp_names_add(sp_names *s, const char *name);
void sp_names_sort(sp_names *s);
int sp_names_has(const sp_names *s, const char *name);
void sp_names_free(sp_names *s);

/* A name a glob for shards takes (*.bin), or a temporary of an unfinished shard or manifest
 * (sp_temporary). */
int sp_shard_like(const char *name);
/* A temporary of an unfinished shard (*.bin.tmp) or manifest (manifest.json.tmp.PID.N, as
 * cm_afile names it). */
int sp_temporary(const char *name);

/* Make dir when missing and lock it for writing until exit; dies naming the holder when
 * another run has it. */
void sp_folder_lock(const char *dir);
/* Lock dir for reading (--verify, --cat): the lock's descriptor to close after, or
 * CM_SHARD_LOCK_NONE (no lock file: no writer); -1 after an error message when a run is
 * writing it. */
int sp_folder_lock_read(const char *dir);

/* Before a run writes dir: remove the earlier manifest first (from then on the folder holds
 * no set that verifies), then the shards it lists, NAME_*.bin and the temporaries of an
 * interrupted run; anything else stays and is mentioned. keep: this run's own files in dir
 * (--stats, --rejects). The names of the shards removed go to *removed. */
void sp_folder_clear(const char *dir, const char *name, const sp_names *keep, sp_names *removed);
/* After the new shards are in place: say which removed ones it did not write again. */
void sp_folder_report(const char *dir, sp_names *removed, sp_names *written);
/* Flush the folder's entries (renames, removals) to disk; dies when it cannot. */
void sp_folder_sync(const char *dir);
#endif
