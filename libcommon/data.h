/* data.h - the files of data/ built into the programs (mk/embed.sh makes the definition). */
#ifndef CM_DATA_H
#define CM_DATA_H
#include <stddef.h>

/* A data file by its name under data/ ("stopwords/en.txt"), NUL-terminated, its length in
 * *len (when len is not NULL); NULL when there is none. */
const char *cm_data(const char *name, size_t *len);
#endif
