/* Replays fuzzer inputs through a libFuzzer target's LLVMFuzzerTestOneInput
 * without libFuzzer, so the normal test build (native, ASan, qemu) runs
 * them: every crash fuzz_graph ever found (tests/fuzz/regress-graph) and
 * its seed corpus (tests/fuzz/corpus-graph: each op on each kernel set).
 * A mismatch or a crash traps, which fails the test.
 *
 *   test_fuzz_graph [FILE_OR_DIR...]   (default: the two folders above)
 *
 * Files whose names start with "." or "README" are skipped. Fails if no
 * input was replayed, so a wrong path cannot pass. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file; returns 1 if it was replayed, 0 if it could not be read. */
static int replay(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "test_fuzz_graph: cannot open %s\n", path);
        return 0;
    }
    uint8_t *data = NULL;
    size_t size = 0, capacity = 0, n;
    uint8_t chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (size + n > capacity) {
            capacity = 2 * (size + n);
            uint8_t *grown = realloc(data, capacity);
            if (!grown) {
                free(data);
                fclose(f);
                return 0;
            }
            data = grown;
        }
        memcpy(data + size, chunk, n);
        size += n;
    }
    fclose(f);
    printf("replay %s (%zu bytes)\n", path, size);
    fflush(stdout);
    LLVMFuzzerTestOneInput(data ? data : (const uint8_t *)"", size);
    free(data);
    return 1;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every file of a folder in name order; returns how many. */
static int replay_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "test_fuzz_graph: cannot open %s: %s\n", dir, strerror(errno));
        return 0;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    for (errno = 0; (e = readdir(d)); errno = 0) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0) continue;
        char **grown = realloc(names, (count + 1) * sizeof *names);
        if (!grown) break;
        names = grown;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[count] = malloc(len))) break;
        snprintf(names[count++], len, "%s/%s", dir, e->d_name);
    }
    if (errno) fprintf(stderr, "test_fuzz_graph: cannot read %s: %s\n", dir, strerror(errno));
    closedir(d);
    qsort(names, count, sizeof *names, by_name);
    int replayed = 0;
    for (size_t i = 0; i < count; i++) {
        replayed += replay(names[i]);
        free(names[i]);
    }
    free(names);
    return replayed;
}

int main(int argc, char **argv) {
    static const char *defaults[] = {FUZZ_REPLAY_DEFAULT_DIRS};
    const char **paths = argc > 1 ? (const char **)argv + 1 : defaults;
    int count = argc > 1 ? argc - 1 : (int)(sizeof defaults / sizeof defaults[0]);
    int replayed = 0;
    for (int i = 0; i < count; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            fprintf(stderr, "test_fuzz_graph: %s does not exist\n", paths[i]);
            return 1;
        }
        replayed += S_ISDIR(st.st_mode) ? replay_dir(paths[i]) : replay(paths[i]);
    }
    printf("%d input(s) replayed without a mismatch\n", replayed);
    return replayed > 0 ? 0 : 1;
}
