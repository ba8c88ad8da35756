/*
 * read_strategy.c - what reading files with pread instead of mmap costs
 * (src/readers/bytes.c; bench/cases_import.py, case 9 of `make bench`).
 *
 *   read_strategy mmap PATH      map the file as the readers did before
 *                                (MAP_PRIVATE, MADV_SEQUENTIAL) and touch
 *                                one byte per 64
 *   read_strategy pread PATH     emb_map_open (the readers' code now: pread
 *                                into private memory) and touch the same
 *                                bytes
 *
 * Prints "<seconds> <checksum>".  A reader parses or widens every byte it
 * maps, so "touch one byte per cache line" is the least work a reader does
 * on its input: the difference between the two is the cost of the copy.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "readers/bytes.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t touch(const uint8_t *p, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i += 64)
        s += p[i];
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    double t0 = now();
    uint64_t sum;
    if (!strcmp(argv[1], "mmap")) {
        int fd = open(argv[2], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0)
            return 1;
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
            return 1;
        madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
        sum = touch(p, (size_t)st.st_size);
        munmap(p, (size_t)st.st_size);
    } else {
        emb_map m;
        emb_err err;
        if (emb_map_open(&m, argv[2], "bench", "file", &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        sum = touch(m.data, m.n);
        emb_map_close(&m);
    }
    printf("%.6f %llu\n", now() - t0, (unsigned long long)sum);
    return 0;
}
