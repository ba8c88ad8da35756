/*
 * cpu.c - choose the kernel table once, at first use.
 *
 * The best set this CPU and OS support wins (__builtin_cpu_supports checks
 * both the CPUID bits and that the OS saves the wide registers).  The
 * environment variable EMB_ISA may name a lower set; a name that is unknown
 * or not supported here is ignored (the best set is kept).
 */
#include "kernels/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Best first; filled once by kernels_init. */
static const emb_kernels *available[5];
static const emb_kernels *active;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
/* F16C (CPUID leaf 1, ECX bit 29), read directly: not every compiler's
 * __builtin_cpu_supports knows "f16c".  It uses the same YMM state as AVX,
 * whose OS support __builtin_cpu_supports("avx2") has already checked. */
static int cpu_has_f16c(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    return (ecx >> 29) & 1u;
}
#endif

/* -1: not probed yet; 0 / 1 otherwise (probed once, before the table is
 * published, so readers see a settled value). */
static int vnni_cpu = -1, vnni_on = 1;

static int cpu_has_vnni(void)
{
#if defined(__x86_64__) || defined(__i386__)
    if (vnni_cpu < 0) {
        __builtin_cpu_init();
        vnni_cpu = __builtin_cpu_supports("avx512vnni") ? 1 : 0;
    }
    return vnni_cpu;
#else
    return 0;
#endif
}

int emb_kernels_vnni(void)
{
    return vnni_on && vnni_cpu > 0;
}

void emb_kernels_use_vnni(int on)
{
    (void)cpu_has_vnni();
    vnni_on = on != 0;
}

static void kernels_init(void)
{
    (void)cpu_has_vnni();
    size_t n = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    int has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                   cpu_has_f16c();
    int has_avx512 = has_avx2 && __builtin_cpu_supports("avx512f") &&
                     __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                     __builtin_cpu_supports("avx512dq");
    if (has_avx512)
        available[n++] = &emb_kernels_avx512;
    if (has_avx2)
        available[n++] = &emb_kernels_avx2;
#endif
#if defined(__aarch64__)
    available[n++] = &emb_kernels_neon; /* NEON is mandatory on AArch64 */
#endif
    available[n++] = &emb_kernels_serial;
    available[n] = NULL;

    /* Look the name up in `available` directly: calling emb_kernels_find
     * here would re-enter pthread_once from its own init routine and
     * deadlock. */
    active = available[0];
    const char *want = getenv("EMB_ISA");
    if (want && *want) {
        for (size_t i = 0; available[i]; i++)
            if (strcmp(available[i]->name, want) == 0)
                active = available[i];
    }
}

const emb_kernels *const *emb_kernels_all(void)
{
    pthread_once(&once, kernels_init);
    return available;
}

const emb_kernels *emb_kernels_find(const char *name)
{
    for (const emb_kernels *const *k = emb_kernels_all(); *k; k++)
        if (strcmp((*k)->name, name) == 0)
            return *k;
    return NULL;
}

const emb_kernels *emb_kernels_get(void)
{
    pthread_once(&once, kernels_init);
    return active;
}
