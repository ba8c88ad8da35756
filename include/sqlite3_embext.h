/*
 * sqlite3_embext.h - embext linked statically into a program (make static:
 * libembext.a).  Register it for every connection the program opens:
 *
 *     #include <sqlite3.h>
 *     #include <sqlite3_embext.h>
 *     sqlite3_auto_extension((void (*)(void))sqlite3_embext_init);
 *
 * or call sqlite3_embext_init(db, &zErr, NULL) on one connection.  Link with
 * -lembext -lsqlite3 -lm -lpthread (pkg-config --libs embext).
 */
#ifndef SQLITE3_EMBEXT_H
#define SQLITE3_EMBEXT_H
#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

int sqlite3_embext_init(sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi);

#ifdef __cplusplus
}
#endif
#endif
