/* cluster.h - `dedup-minhash cluster`: signature files in, one duplicate list per shard out. */
#ifndef DM_CLUSTER_H
#define DM_CLUSTER_H

#define DM_CLUSTER_USAGE "[OPTION]... SIGFILE..."

/* The step's main: argv[0] is its name ("dedup-minhash cluster"). */
int dm_cluster_main(int argc, char **argv);

#endif
