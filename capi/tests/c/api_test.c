/*
 * C-level tests of libdeepspeech.so through DeepSpeech 0.9's header: error codes and messages,
 * null pointers everywhere, freeing, odd and empty buffers, hot-word and scorer semantics,
 * streams fed in odd pieces, metadata consistency, settings changed under a live stream, and
 * one model shared by four threads. Run by capi/tests/c_api.rs (also under valgrind).
 *
 * Usage: api_test MODEL SCORER WAV (16 kHz mono 16-bit PCM)
 * Prints "TRANSCRIPT <text>" (model + scorer) and "TRANSCRIPT_NO_SCORER <text>"; exits 1 on any
 * failed check.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepspeech.h"

static int failures = 0;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                         \
    }                                                                     \
  } while (0)

/* The samples of a 16-bit PCM WAV file, read chunk by chunk. */
static short* read_wav(const char* path, unsigned int* count) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char header[12];
  if (fread(header, 1, 12, f) != 12 || memcmp(header, "RIFF", 4) || memcmp(header + 8, "WAVE", 4)) {
    fclose(f);
    return NULL;
  }
  for (;;) {
    unsigned char chunk[8];
    if (fread(chunk, 1, 8, f) != 8) break;
    uint32_t size = chunk[4] | chunk[5] << 8 | chunk[6] << 16 | (uint32_t)chunk[7] << 24;
    if (!memcmp(chunk, "data", 4)) {
      short* samples = malloc(size);
      *count = size / 2;
      if (fread(samples, 2, *count, f) != *count) {
        free(samples);
        samples = NULL;
      }
      fclose(f);
      return samples;
    }
    fseek(f, size + (size & 1), SEEK_CUR);
  }
  fclose(f);
  return NULL;
}

/* The candidate's tokens joined: the text DeepSpeech's clients rebuild from metadata. */
static char* joined(const CandidateTranscript* t) {
  size_t len = 1;
  for (unsigned int i = 0; i < t->num_tokens; i++) len += strlen(t->tokens[i].text);
  char* out = calloc(len, 1);
  for (unsigned int i = 0; i < t->num_tokens; i++) strcat(out, t->tokens[i].text);
  return out;
}

static void check_metadata(const Metadata* m, const char* text, unsigned int at_most) {
  CHECK(m != NULL);
  if (!m) return;
  CHECK(m->num_transcripts >= 1 && m->num_transcripts <= at_most);
  for (unsigned int c = 0; c < m->num_transcripts; c++) {
    const CandidateTranscript* t = &m->transcripts[c];
    for (unsigned int i = 0; i < t->num_tokens; i++) {
      CHECK(strlen(t->tokens[i].text) >= 1);
      CHECK(fabsf(t->tokens[i].start_time - t->tokens[i].timestep * 0.02f) < 1e-4f);
      if (i > 0) CHECK(t->tokens[i].timestep >= t->tokens[i - 1].timestep);
    }
    if (c > 0) CHECK(t->confidence <= m->transcripts[c - 1].confidence);
  }
  char* best = joined(&m->transcripts[0]);
  CHECK(strcmp(best, text) == 0);
  free(best);
}

static void test_errors_without_a_model(void) {
  char* version = DS_Version();
  CHECK(version && strncmp(version, "0.9.3", 5) == 0);
  DS_FreeString(version);

#define CHECK_MESSAGE(NAME, VALUE, DESC)                   \
  do {                                                     \
    char* m = DS_ErrorCodeToErrorMessage(NAME);            \
    CHECK(NAME == VALUE && m && strcmp(m, DESC) == 0);     \
    DS_FreeString(m);                                      \
  } while (0);
  DS_FOR_EACH_ERROR(CHECK_MESSAGE)
#undef CHECK_MESSAGE
  char* unknown = DS_ErrorCodeToErrorMessage(0x4242);
  CHECK(unknown && strstr(unknown, "Unknown error") == unknown);
  free(unknown); /* malloc'ed, as DeepSpeech's: plain free() works too */

  ModelState* m = (ModelState*)0x1;
  CHECK(DS_CreateModel(NULL, &m) == DS_ERR_NO_MODEL && m == NULL);
  m = (ModelState*)0x1;
  CHECK(DS_CreateModel("", &m) == DS_ERR_NO_MODEL && m == NULL);
  CHECK(DS_CreateModel("/nonexistent/model.pbmm", &m) != DS_ERR_OK && m == NULL);
  CHECK(DS_CreateModel("/etc/hostname", &m) != DS_ERR_OK && m == NULL);
  CHECK(DS_CreateModel("/nonexistent/model.pbmm", NULL) != DS_ERR_OK);

  /* Null pointers: an error or nothing, never a crash. */
  CHECK(DS_GetModelBeamWidth(NULL) == 0);
  CHECK(DS_SetModelBeamWidth(NULL, 5) != DS_ERR_OK);
  CHECK(DS_GetModelSampleRate(NULL) == 0);
  DS_FreeModel(NULL);
  CHECK(DS_EnableExternalScorer(NULL, "x.scorer") != DS_ERR_OK);
  CHECK(DS_DisableExternalScorer(NULL) != DS_ERR_OK);
  CHECK(DS_SetScorerAlphaBeta(NULL, 1, 1) != DS_ERR_OK);
  CHECK(DS_AddHotWord(NULL, "a", 1) != DS_ERR_OK);
  CHECK(DS_EraseHotWord(NULL, "a") != DS_ERR_OK);
  CHECK(DS_ClearHotWords(NULL) != DS_ERR_OK);
  short s[4] = {0};
  CHECK(DS_SpeechToText(NULL, s, 4) == NULL);
  CHECK(DS_SpeechToTextWithMetadata(NULL, s, 4, 1) == NULL);
  StreamingState* st = (StreamingState*)0x1;
  CHECK(DS_CreateStream(NULL, &st) != DS_ERR_OK && st == NULL);
  DS_FeedAudioContent(NULL, s, 4);
  CHECK(DS_IntermediateDecode(NULL) == NULL);
  CHECK(DS_IntermediateDecodeWithMetadata(NULL, 1) == NULL);
  CHECK(DS_FinishStream(NULL) == NULL);
  CHECK(DS_FinishStreamWithMetadata(NULL, 1) == NULL);
  DS_FreeStream(NULL);
  DS_FreeMetadata(NULL);
  DS_FreeString(NULL);
}

struct job {
  ModelState* model;
  const short* audio;
  unsigned int count;
  char* text;
};

static void* transcribe(void* arg) {
  struct job* j = arg;
  j->text = DS_SpeechToText(j->model, j->audio, j->count);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MODEL SCORER WAV\n", argv[0]);
    return 2;
  }
  test_errors_without_a_model();

  unsigned int count = 0;
  short* audio = read_wav(argv[3], &count);
  CHECK(audio != NULL && count > 16000);
  if (!audio) return 1;

  ModelState* model = NULL;
  int err = DS_CreateModel(argv[1], &model);
  CHECK(err == DS_ERR_OK && model != NULL);
  if (!model) return 1;
  CHECK(DS_GetModelSampleRate(model) == 16000);
  CHECK(DS_GetModelBeamWidth(model) > 0);
  CHECK(DS_SetModelBeamWidth(model, 100) == DS_ERR_OK && DS_GetModelBeamWidth(model) == 100);

  /* Without a scorer: hot-words and weights need one. */
  CHECK(DS_AddHotWord(model, "she", 5) == DS_ERR_SCORER_NOT_ENABLED);
  CHECK(DS_EraseHotWord(model, "she") == DS_ERR_SCORER_NOT_ENABLED);
  CHECK(DS_ClearHotWords(model) == DS_ERR_SCORER_NOT_ENABLED);
  CHECK(DS_SetScorerAlphaBeta(model, 1, 1) == DS_ERR_SCORER_NOT_ENABLED);
  CHECK(DS_DisableExternalScorer(model) == DS_ERR_SCORER_NOT_ENABLED);
  char* plain = DS_SpeechToText(model, audio, count);
  CHECK(plain != NULL);
  printf("TRANSCRIPT_NO_SCORER %s\n", plain ? plain : "");

  CHECK(DS_EnableExternalScorer(model, "/nonexistent.scorer") == DS_ERR_INVALID_SCORER);
  CHECK(DS_EnableExternalScorer(model, "/etc/hostname") == DS_ERR_INVALID_SCORER);
  CHECK(DS_EnableExternalScorer(model, NULL) == DS_ERR_INVALID_SCORER);
  CHECK(DS_EnableExternalScorer(model, argv[2]) == DS_ERR_OK);

  CHECK(DS_AddHotWord(model, "she", 5) == DS_ERR_OK);
  CHECK(DS_AddHotWord(model, "she", 6) == DS_ERR_FAIL_INSERT_HOTWORD);
  CHECK(DS_AddHotWord(model, NULL, 6) == DS_ERR_FAIL_INSERT_HOTWORD);
  CHECK(DS_EraseHotWord(model, "nowhere") == DS_ERR_FAIL_ERASE_HOTWORD);
  CHECK(DS_EraseHotWord(model, "she") == DS_ERR_OK);
  CHECK(DS_AddHotWord(model, "water", -2) == DS_ERR_OK);
  CHECK(DS_ClearHotWords(model) == DS_ERR_OK);

  char* text = DS_SpeechToText(model, audio, count);
  CHECK(text != NULL && strlen(text) > 0);
  if (!text) return 1;
  printf("TRANSCRIPT %s\n", text);
  Metadata* m = DS_SpeechToTextWithMetadata(model, audio, count, 3);
  check_metadata(m, text, 3);
  DS_FreeMetadata(m);
  m = DS_SpeechToTextWithMetadata(model, audio, count, 0);
  CHECK(m != NULL && m->num_transcripts == 0);
  DS_FreeMetadata(m);

  /* A stream fed in odd pieces, decoded along the way, equals the whole buffer. */
  StreamingState* stream = NULL;
  CHECK(DS_CreateStream(model, &stream) == DS_ERR_OK && stream != NULL);
  const unsigned int pieces[] = {1, 7, 0, 320, 1001, 2};
  unsigned int at = 0, p = 0;
  while (at < count) {
    unsigned int n = pieces[p++ % 6];
    if (n > count - at) n = count - at;
    DS_FeedAudioContent(stream, audio + at, n);
    at += n;
    if (p % 50 == 0) {
      char* partial = DS_IntermediateDecode(stream);
      CHECK(partial != NULL);
      DS_FreeString(partial);
      Metadata* pm = DS_IntermediateDecodeWithMetadata(stream, 2);
      CHECK(pm != NULL);
      DS_FreeMetadata(pm);
    }
  }
  DS_FeedAudioContent(stream, NULL, 5); /* ignored, with a message */
  DS_FeedAudioContent(stream, audio, 0);
  char* streamed = DS_FinishStream(stream);
  CHECK(streamed && strcmp(streamed, text) == 0);
  DS_FreeString(streamed);

  /* A stream keeps the settings it was created with. */
  CHECK(DS_CreateStream(model, &stream) == DS_ERR_OK);
  DS_FeedAudioContent(stream, audio, count);
  CHECK(DS_DisableExternalScorer(model) == DS_ERR_OK);
  Metadata* kept = DS_FinishStreamWithMetadata(stream, 1);
  check_metadata(kept, text, 1);
  DS_FreeMetadata(kept);
  char* without = DS_SpeechToText(model, audio, count);
  CHECK(without && plain && strcmp(without, plain) == 0);
  DS_FreeString(without);
  CHECK(DS_EnableExternalScorer(model, argv[2]) == DS_ERR_OK);
  CHECK(DS_SetScorerAlphaBeta(model, 0.93f, 1.18f) == DS_ERR_OK);

  /* Empty input (a transcript of nothing, whatever the model makes of it: DeepSpeech's runtime
   * gives the same), and a stream freed without finishing. */
  char* empty = DS_SpeechToText(model, NULL, 0);
  CHECK(empty != NULL);
  DS_FreeString(empty);
  CHECK(DS_SpeechToText(model, NULL, 10) == NULL);
  CHECK(DS_CreateStream(model, &stream) == DS_ERR_OK);
  DS_FeedAudioContent(stream, audio, count / 2);
  DS_FreeStream(stream);

  /* One model, four threads. */
  CHECK(DS_SetScorerAlphaBeta(model, 0.931289f, 1.183414f) == DS_ERR_OK);
  char* reference = DS_SpeechToText(model, audio, count);
  pthread_t threads[4];
  struct job jobs[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (struct job){model, audio, count, NULL};
    pthread_create(&threads[i], NULL, transcribe, &jobs[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    CHECK(jobs[i].text && reference && strcmp(jobs[i].text, reference) == 0);
    DS_FreeString(jobs[i].text);
  }
  DS_FreeString(reference);

  DS_FreeString(plain);
  DS_FreeString(text);
  DS_FreeModel(model);
  free(audio);
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
