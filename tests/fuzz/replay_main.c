/*
 * replay_main.c — runs a libFuzzer target over stored inputs without libFuzzer.
 *
 * Every fuzz target defines LLVMFuzzerTestOneInput().  Linked with this file
 * instead of libFuzzer, the target becomes a plain program that feeds it each
 * file named on the command line, or each file inside each directory named.
 * That is how CI replays the corpora with any compiler, and under ASan+UBSan.
 * Prints one TAP line per input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_INPUT_BYTES_MAX (16u << 20)

static int replay_count;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        printf("not ok %d - %s: cannot open\n", ++replay_count, path);
        return 1;
    }
    uint8_t *data = malloc(REPLAY_INPUT_BYTES_MAX);
    if (data == NULL) {
        fclose(f);
        return 1;
    }
    size_t size = fread(data, 1, REPLAY_INPUT_BYTES_MAX, f);
    fclose(f);
    /* Copy into an exact-size buffer so ASan sees reads past the end. */
    uint8_t *exact = malloc(size ? size : 1);
    if (exact == NULL) {
        free(data);
        return 1;
    }
    memcpy(exact, data, size);
    free(data);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    printf("ok %d - %s\n", ++replay_count, path);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_directory(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL) {
        printf("not ok %d - %s: cannot open directory\n", ++replay_count, path);
        return 1;
    }
    char **names = NULL;
    size_t count = 0, capacity = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        if (count == capacity) {
            capacity = capacity ? capacity * 2 : 64;
            char **grown = realloc(names, capacity * sizeof *names);
            if (grown == NULL)
                break;
            names = grown;
        }
        names[count++] = strdup(entry->d_name);
    }
    closedir(dir);
    qsort(names, count, sizeof *names, compare_names);
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        failures += replay_file(full);
        free(names[i]);
    }
    free(names);
    return failures;
}

int main(int argc, char **argv)
{
    int failures = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            failures += replay_directory(argv[i]);
        else
            failures += replay_file(argv[i]);
    }
    printf("1..%d\n", replay_count);
    return failures ? 1 : 0;
}
