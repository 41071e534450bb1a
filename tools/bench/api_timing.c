/* The C side of tools/bench/api-overhead.sh: the same loop as capi/examples/rust_api_timing.rs,
 * through libdeepspeech.so's DeepSpeech API (DS_SpeechToText). Usage: api_timing MODEL SCORER
 * ROUNDS WAV... (16 kHz mono 16-bit). Prints the loop's process CPU seconds and the transcripts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deepspeech.h"

static short* read_wav(const char* path, unsigned int* count) {
  FILE* f = fopen(path, "rb");
  unsigned char h[12], c[8];
  if (!f || fread(h, 1, 12, f) != 12) return NULL;
  while (fread(c, 1, 8, f) == 8) {
    uint32_t size = c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24;
    if (!memcmp(c, "data", 4)) {
      short* s = malloc(size);
      *count = fread(s, 2, size / 2, f);
      fclose(f);
      return s;
    }
    fseek(f, size + (size & 1), SEEK_CUR);
  }
  fclose(f);
  return NULL;
}

static double cpu_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc < 5) return 2;
  ModelState* model;
  if (DS_CreateModel(argv[1], &model) || DS_EnableExternalScorer(model, argv[2])) return 1;
  int rounds = atoi(argv[3]), n = argc - 4;
  short** audio = calloc(n, sizeof(short*));
  unsigned int* counts = calloc(n, sizeof(unsigned int));
  char** texts = calloc(n, sizeof(char*));
  for (int i = 0; i < n; i++)
    if (!(audio[i] = read_wav(argv[4 + i], &counts[i]))) return 1;
  double start = cpu_seconds();
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < n; i++) {
      DS_FreeString(texts[i]);
      texts[i] = DS_SpeechToText(model, audio[i], counts[i]);
    }
  printf("cpu_seconds %.3f\n", cpu_seconds() - start);
  for (int i = 0; i < n; i++) printf("%s\n", texts[i]);
  return 0;
}
