/*
 * deepspeech-rs: DeepSpeech 0.9's C API.
 *
 * The same functions, types, struct layouts and error codes as DeepSpeech 0.9.3's
 * native_client/deepspeech.h, so that a program written for DeepSpeech compiles against this
 * header and links against this project's libdeepspeech.so unchanged. See README, "C API".
 *
 * Models: any model deepspeech-rs reads (DeepSpeech's and Coqui STT's .pb, .pbmm, .tflite,
 * TensorFlow checkpoints, and deepspeech-rs .safetensors). Scorers: DeepSpeech's and Coqui STT's
 * .scorer packages, deepspeech-rs scorer files and ARPA files.
 *
 * Strings and metadata returned are allocated with malloc: free them with DS_FreeString and
 * DS_FreeMetadata. One model may serve many streams at once, each stream used by one thread at a
 * time; settings changed on a model apply to the streams created afterwards.
 */
#ifndef DEEPSPEECH_H
#define DEEPSPEECH_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SWIG
#if defined _MSC_VER
#define DEEPSPEECH_EXPORT __declspec(dllimport)
#else
#define DEEPSPEECH_EXPORT __attribute__((visibility("default")))
#endif
#else
#define DEEPSPEECH_EXPORT
#endif

/** A loaded model and its decoder settings. */
typedef struct ModelState ModelState;

/** A stream of audio being transcribed. */
typedef struct StreamingState StreamingState;

/** One character of a transcript and where it was placed. */
typedef struct TokenMetadata {
  /** The character (UTF-8). */
  const char* const text;
  /** Its position, in the model's feature steps (20 ms for DeepSpeech's models). */
  const unsigned int timestep;
  /** Its position in seconds. */
  const float start_time;
} TokenMetadata;

/** One candidate transcript. */
typedef struct CandidateTranscript {
  /** Its characters, spaces included. */
  const TokenMetadata* const tokens;
  /** How many there are. */
  const unsigned int num_tokens;
  /** The decoder's score for it (DeepSpeech's confidence: higher is better). */
  const double confidence;
} CandidateTranscript;

/** Candidate transcripts, best first. */
typedef struct Metadata {
  /** The candidates. */
  const CandidateTranscript* const transcripts;
  /** How many there are. */
  const unsigned int num_transcripts;
} Metadata;

/* Error codes and their messages, as DeepSpeech 0.9.3 defines them. */
#define DS_FOR_EACH_ERROR(APPLY) \
  APPLY(DS_ERR_OK,                      0x0000, "No error.") \
  APPLY(DS_ERR_NO_MODEL,                0x1000, "Missing model information.") \
  APPLY(DS_ERR_INVALID_ALPHABET,        0x2000, "Invalid alphabet embedded in model. (Data corruption?)") \
  APPLY(DS_ERR_INVALID_SHAPE,           0x2001, "Invalid model shape.") \
  APPLY(DS_ERR_INVALID_SCORER,          0x2002, "Invalid scorer file.") \
  APPLY(DS_ERR_MODEL_INCOMPATIBLE,      0x2003, "Incompatible model.") \
  APPLY(DS_ERR_SCORER_NOT_ENABLED,      0x2004, "External scorer is not enabled.") \
  APPLY(DS_ERR_SCORER_UNREADABLE,       0x2005, "Could not read scorer file.") \
  APPLY(DS_ERR_SCORER_INVALID_LM,       0x2006, "Could not recognize language model header in scorer.") \
  APPLY(DS_ERR_SCORER_NO_TRIE,          0x2007, "Reached end of scorer file before loading vocabulary trie.") \
  APPLY(DS_ERR_SCORER_INVALID_TRIE,     0x2008, "Invalid magic in trie header.") \
  APPLY(DS_ERR_SCORER_VERSION_MISMATCH, 0x2009, "Scorer file version does not match expected version.") \
  APPLY(DS_ERR_FAIL_INIT_MMAP,          0x3000, "Failed to initialize memory mapped model.") \
  APPLY(DS_ERR_FAIL_INIT_SESS,          0x3001, "Failed to initialize the session.") \
  APPLY(DS_ERR_FAIL_INTERPRETER,        0x3002, "Interpreter failed.") \
  APPLY(DS_ERR_FAIL_RUN_SESS,           0x3003, "Failed to run the session.") \
  APPLY(DS_ERR_FAIL_CREATE_STREAM,      0x3004, "Error creating the stream.") \
  APPLY(DS_ERR_FAIL_READ_PROTOBUF,      0x3005, "Error reading the proto buffer model file.") \
  APPLY(DS_ERR_FAIL_CREATE_SESS,        0x3006, "Failed to create session.") \
  APPLY(DS_ERR_FAIL_CREATE_MODEL,       0x3007, "Could not allocate model state.") \
  APPLY(DS_ERR_FAIL_INSERT_HOTWORD,     0x3008, "Could not insert hot-word.") \
  APPLY(DS_ERR_FAIL_CLEAR_HOTWORD,      0x3009, "Could not clear hot-words.") \
  APPLY(DS_ERR_FAIL_ERASE_HOTWORD,      0x3010, "Could not erase hot-word.")

enum DeepSpeech_Error_Codes {
#define DEFINE(NAME, VALUE, DESC) NAME = VALUE,
  DS_FOR_EACH_ERROR(DEFINE)
#undef DEFINE
};

/** Loads the model at aModelPath into *retval; DS_ERR_OK or an error code (details on stderr). */
DEEPSPEECH_EXPORT int DS_CreateModel(const char* aModelPath, ModelState** retval);

/** The beam width streams created from now on use (the model's own, or 1024). */
DEEPSPEECH_EXPORT unsigned int DS_GetModelBeamWidth(const ModelState* aCtx);

/** Sets the beam width for streams created from now on. */
DEEPSPEECH_EXPORT int DS_SetModelBeamWidth(ModelState* aCtx, unsigned int aBeamWidth);

/** The sample rate the audio given to this model must have. */
DEEPSPEECH_EXPORT int DS_GetModelSampleRate(const ModelState* aCtx);

/** Frees a model (streams created from it keep what they need). */
DEEPSPEECH_EXPORT void DS_FreeModel(ModelState* ctx);

/** Loads a scorer (language model) and uses it for streams created from now on. */
DEEPSPEECH_EXPORT int DS_EnableExternalScorer(ModelState* aCtx, const char* aScorerPath);

/** Adds a hot-word with its boost (needs a scorer; an existing hot-word is an error). */
DEEPSPEECH_EXPORT int DS_AddHotWord(ModelState* aCtx, const char* word, float boost);

/** Removes a hot-word. */
DEEPSPEECH_EXPORT int DS_EraseHotWord(ModelState* aCtx, const char* word);

/** Removes every hot-word. */
DEEPSPEECH_EXPORT int DS_ClearHotWords(ModelState* aCtx);

/** Stops using the scorer. */
DEEPSPEECH_EXPORT int DS_DisableExternalScorer(ModelState* aCtx);

/** Sets the scorer's language model weight and word insertion bonus. */
DEEPSPEECH_EXPORT int DS_SetScorerAlphaBeta(ModelState* aCtx, float aAlpha, float aBeta);

/** Transcribes aBufferSize 16-bit mono samples at the model's sample rate; NULL on error. */
DEEPSPEECH_EXPORT char* DS_SpeechToText(ModelState* aCtx, const short* aBuffer,
                                        unsigned int aBufferSize);

/** As DS_SpeechToText, up to aNumResults candidates with their tokens; NULL on error. */
DEEPSPEECH_EXPORT Metadata* DS_SpeechToTextWithMetadata(ModelState* aCtx, const short* aBuffer,
                                                        unsigned int aBufferSize,
                                                        unsigned int aNumResults);

/** Creates a stream into *retval. */
DEEPSPEECH_EXPORT int DS_CreateStream(ModelState* aCtx, StreamingState** retval);

/** Feeds aBufferSize 16-bit mono samples at the model's sample rate to a stream. */
DEEPSPEECH_EXPORT void DS_FeedAudioContent(StreamingState* aSctx, const short* aBuffer,
                                           unsigned int aBufferSize);

/** The transcript of what the stream has heard so far; the stream goes on. */
DEEPSPEECH_EXPORT char* DS_IntermediateDecode(const StreamingState* aSctx);

/** As DS_IntermediateDecode, with up to aNumResults candidates and their tokens. */
DEEPSPEECH_EXPORT Metadata* DS_IntermediateDecodeWithMetadata(const StreamingState* aSctx,
                                                              unsigned int aNumResults);

/** Ends the stream (freeing it) and returns its transcript. */
DEEPSPEECH_EXPORT char* DS_FinishStream(StreamingState* aSctx);

/** Ends the stream (freeing it) and returns up to aNumResults candidates. */
DEEPSPEECH_EXPORT Metadata* DS_FinishStreamWithMetadata(StreamingState* aSctx,
                                                        unsigned int aNumResults);

/** Frees a stream without finishing it. */
DEEPSPEECH_EXPORT void DS_FreeStream(StreamingState* aSctx);

/** Frees metadata returned by this library. */
DEEPSPEECH_EXPORT void DS_FreeMetadata(Metadata* m);

/** Frees a string returned by this library. */
DEEPSPEECH_EXPORT void DS_FreeString(char* str);

/** The version: DeepSpeech's API version and this library's, e.g. "0.9.3+deepspeech-rs.0.1.0". */
DEEPSPEECH_EXPORT char* DS_Version();

/** The message for an error code (DeepSpeech's texts); free it with DS_FreeString. */
DEEPSPEECH_EXPORT char* DS_ErrorCodeToErrorMessage(int aErrorCode);

#undef DEEPSPEECH_EXPORT

#ifdef __cplusplus
}
#endif

#endif /* DEEPSPEECH_H */
