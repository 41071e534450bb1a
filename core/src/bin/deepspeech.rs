//! `deepspeech`: transcribe audio files, as DeepSpeech's native client does.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use deepspeech_core::audio::read_audio_limited;
use deepspeech_core::decoder::HotWords;
use deepspeech_core::embedded;
use deepspeech_core::engine::{Model, Transcript};
use deepspeech_core::lm::Scorer;

/// Speech-to-text on audio files: WAV of any PCM/float encoding, MP3, FLAC, Ogg Vorbis, AAC
/// (MP4/M4A) or Matroska/WebM audio, at any sample rate and channel count. The transcript goes
/// to stdout; errors go to stderr with a non-zero exit status.
#[derive(Parser, Debug)]
#[command(name = "deepspeech", version, rename_all = "snake_case")]
struct Args {
    /// Exported acoustic model (.safetensors from ds-train --export_dir); default: the
    /// embedded English model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Audio files, or folders whose audio files (.wav, .mp3, .flac, .ogg, .m4a, ...) are
    /// transcribed in name order.
    #[arg(long, required = true, num_args = 1..)]
    audio: Vec<PathBuf>,
    /// Print JSON: {"file", "transcripts": [{"confidence", "text", "words": [{"word",
    /// "start_time", "duration", "confidence"}]}]}, one object per line and file.
    #[arg(long)]
    json: bool,
    /// Print each word with its start and end time (seconds) after the transcript.
    #[arg(long)]
    extended: bool,
    /// Feed the audio in chunks of this many milliseconds (DeepSpeech's client counts
    /// samples), printing the intermediate transcript whenever it changes, then the final
    /// result as without --stream (one line per candidate; with --json, each change is a line
    /// {"file", "time", "partial"} before the final object). Intermediate results come from
    /// the same beam search, fed as the audio arrives, so small chunks cost little more than
    /// one pass.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u32).range(1..))]
    stream: Option<u32>,
    /// Print model-loading and inference timings to stderr.
    #[arg(short = 't')]
    timings: bool,
    /// External scorer: a DeepSpeech or Coqui STT `.scorer` package, a binary scorer from
    /// `ds-lm --scorer`, or an ARPA language model;
    /// `none` decodes without one. Default: the embedded English scorer with the embedded
    /// model, none with a model given by --model.
    #[arg(long)]
    scorer: Option<PathBuf>,
    /// Language model weight (default: the scorer's own, or DeepSpeech's 0.931289 for ARPA).
    #[arg(long)]
    lm_alpha: Option<f32>,
    /// Word insertion bonus (default: the scorer's own, or DeepSpeech's 1.183414 for ARPA).
    #[arg(long)]
    lm_beta: Option<f32>,
    /// Beam width of the CTC prefix beam search (1 decodes greedily when there is no scorer
    /// and no hot-word). Default: the model's own (a DeepSpeech export's metadata_beam_width),
    /// else 1024.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    beam_width: Option<u64>,
    /// The longest audio file to take, in seconds (four hours by default): a longer one, or a
    /// WAV whose header claims one, is refused before it is read into memory.
    #[arg(long, default_value_t = deepspeech_core::audio::DEFAULT_MAX_AUDIO_SECS, value_parser = positive_secs)]
    max_audio_secs: f64,
    /// Hot-words, comma-separated `word:boost` pairs (e.g. `nine:7.5,cancel:-2`); a positive
    /// boost favours the word, a negative one disfavours it. They act through the scorer's
    /// word scoring, as in DeepSpeech 0.9, so they need --scorer.
    #[arg(long)]
    hot_words: Option<String>,
    /// Number of candidate transcripts to print, best first (with --json: all with their
    /// words; otherwise one line each). Default: 3 with --json, as DeepSpeech's client; else 1.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    candidate_transcripts: Option<u32>,
    /// Also write the acoustic model's per-frame natural-log probabilities, the decoder's
    /// input (float32 `[frames, classes]`, blank last), as a NumPy .npy file: to this file with
    /// one audio file, into this folder (created if needed) as `<audio name>.npy` with several.
    /// Any decoder (DeepSpeech's ds_ctcdecoder, ours, yours) can then be compared on exactly
    /// the same input.
    #[arg(long, value_name = "FILE.npy")]
    log_probs: Option<PathBuf>,
    /// Compute device of the acoustic model: cpu, cuda or cuda:N (CUDA needs a build with
    /// `--features cuda`). A device that cannot be used falls back to the CPU with a warning,
    /// as in the GStreamer element. Decoding always runs on the CPU.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn main() {
    deepspeech_core::cli::restore_default_sigpipe();
    if let Err(e) = run(Args::parse()) {
        eprintln!("deepspeech: error: {e:#}");
        std::process::exit(1);
    }
}

/// File extensions a folder's audio files are picked by.
const AUDIO_EXTENSIONS: [&str; 11] = [
    "wav", "mp3", "flac", "ogg", "oga", "m4a", "mp4", "aac", "mka", "mkv", "webm",
];

fn audio_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("cannot read folder {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension().is_some_and(|e| {
                        AUDIO_EXTENSIONS
                            .iter()
                            .any(|known| e.eq_ignore_ascii_case(known))
                    })
                })
                .collect();
            if found.is_empty() {
                bail!("no audio file in {}", input.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

fn run(args: Args) -> Result<()> {
    let (device, fell_back) = deepspeech_core::device::select_or_cpu(&args.device);
    if let Some(why) = fell_back {
        eprintln!("deepspeech: warning: {why}");
    }
    let files = audio_files(&args.audio)?;
    let started = Instant::now();
    let mut model = match &args.model {
        Some(path) => Model::load_on(path, &device).context("cannot load the model")?,
        None => embedded::model_on(&device).context("cannot load the embedded model")?,
    };
    if let Some(width) = args.beam_width {
        model.set_beam_width(width as usize);
    }
    let scorer = match &args.scorer {
        Some(path) if path.as_os_str() == "none" => None,
        Some(path) => Some(path.clone()),
        None if args.model.is_none() => Some(PathBuf::from(embedded::SCORER_NAME)),
        None => None,
    };
    if let Some(path) = &scorer {
        let started = Instant::now();
        let scorer = if path.as_os_str() == embedded::SCORER_NAME && args.scorer.is_none() {
            embedded::scorer().context("cannot load the embedded scorer")?
        } else {
            Scorer::from_file(path).context("cannot load the scorer")?
        };
        let (alpha, beta) = (
            args.lm_alpha.unwrap_or(scorer.alpha),
            args.lm_beta.unwrap_or(scorer.beta),
        );
        model.set_scorer(Some(scorer));
        model.set_scorer_alpha_beta(alpha, beta);
        if args.timings {
            eprintln!("Loaded scorer in {:.3}s.", started.elapsed().as_secs_f64());
        }
    } else if args.lm_alpha.is_some() || args.lm_beta.is_some() {
        bail!("--lm_alpha and --lm_beta need --scorer");
    } else if args.hot_words.is_some() {
        bail!("--hot_words need --scorer: hot-words act through the scorer's word scores");
    }
    if let Some(spec) = &args.hot_words {
        model.set_hot_words(Some(HotWords::parse(spec)?));
    }
    let model = Arc::new(model);
    if args.timings {
        eprintln!("Loaded model in {:.3}s.", started.elapsed().as_secs_f64());
    }
    let many = files.len() > 1;
    let log_prob_paths = log_prob_paths(args.log_probs.as_deref(), &files)?;
    let mut failed = 0;
    for (i, file) in files.iter().enumerate() {
        let log_probs = log_prob_paths.as_ref().map(|p| p[i].as_path());
        // One unreadable file does not stop the others; the exit status still says so.
        if let Err(e) = transcribe(&model, file, &args, many, log_probs) {
            if !many {
                return Err(e);
            }
            eprintln!("deepspeech: error: {e:#}");
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} of {} files could not be transcribed", files.len());
    }
    Ok(())
}

/// How many candidates to print: `--candidate_transcripts`, else 3 with `--json` (as
/// DeepSpeech's client) and 1 without.
fn candidates(args: &Args) -> usize {
    args.candidate_transcripts
        .map_or(if args.json { 3 } else { 1 }, |n| n as usize)
}

/// Where `--log_probs` writes each file's probabilities: the path itself for one audio file;
/// for several, `<audio name>.npy` in that folder (refusing two inputs of the same name).
fn log_prob_paths(target: Option<&Path>, files: &[PathBuf]) -> Result<Option<Vec<PathBuf>>> {
    let Some(target) = target else {
        return Ok(None);
    };
    if files.len() == 1 {
        return Ok(Some(vec![target.to_owned()]));
    }
    std::fs::create_dir_all(target)
        .with_context(|| format!("cannot create the --log_probs folder {}", target.display()))?;
    let mut seen = std::collections::HashSet::new();
    let mut paths = Vec::with_capacity(files.len());
    for file in files {
        let stem = file.file_stem().unwrap_or(file.as_os_str());
        if !seen.insert(stem.to_owned()) {
            bail!(
                "two audio files are named {}: their --log_probs files would collide",
                stem.to_string_lossy()
            );
        }
        paths.push(target.join(stem).with_extension("npy"));
    }
    Ok(Some(paths))
}

/// A float32 `[rows, cols]` array as a NumPy `.npy` file (format 1.0, C order).
fn npy_bytes(values: &[f32], cols: usize) -> Vec<u8> {
    let rows = values.len() / cols.max(1);
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * values.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// A duration in seconds above zero.
fn positive_secs(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{text:?} is not a number of seconds above 0")),
    }
}

fn transcribe(
    model: &Arc<Model>,
    file: &Path,
    args: &Args,
    many: bool,
    log_probs_path: Option<&Path>,
) -> Result<()> {
    let audio = read_audio_limited(file, args.max_audio_secs)?;
    let started = Instant::now();
    let decoded = match args.stream {
        Some(ms) => stream(model, file, &audio.samples, audio.sample_rate, ms, args),
        None => {
            let mut stream = model.create_stream();
            stream
                .feed_audio(&audio.samples, audio.sample_rate, 1)
                .and_then(|()| stream.finish_with_metadata_and_log_probs(candidates(args)))
                .map_err(anyhow::Error::from)
        }
    };
    // Among several files, the error must say which one (e.g. a WAV holding NaN samples).
    let (transcripts, log_probs) = decoded.with_context(|| file.display().to_string())?;
    if let Some(path) = log_probs_path {
        let classes = model.config().n_classes();
        deepspeech_core::model::io::write_file_atomic(path, &[&npy_bytes(&log_probs, classes)])
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.timings {
        eprintln!(
            "Inference took {:.3}s for {:.3}s audio file.",
            started.elapsed().as_secs_f64(),
            audio.duration_secs()
        );
    }
    print(file, &transcripts, args, many);
    Ok(())
}

fn stream(
    model: &Arc<Model>,
    file: &Path,
    samples: &[f32],
    rate: u32,
    ms: u32,
    args: &Args,
) -> Result<(Vec<Transcript>, Vec<f32>)> {
    let chunk = ((rate as usize * ms as usize) / 1000).max(1);
    let mut stream = model.create_stream();
    // As DeepSpeech's client: the first partial is printed even when empty, then each change.
    let mut last: Option<String> = None;
    let mut fed = 0;
    for piece in samples.chunks(chunk) {
        stream.feed_audio(piece, rate, 1)?;
        fed += piece.len();
        // Untrimmed, as DeepSpeech's client prints it ("she had " while the next word comes).
        let partial = stream.intermediate_decode()?.decoded_text();
        if last.as_ref() != Some(&partial) {
            if args.json {
                let line = serde_json::json!({
                    "file": file.display().to_string(),
                    "time": round3(fed as f64 / f64::from(rate)),
                    "partial": partial,
                });
                println!("{line}");
            } else {
                println!("{partial}");
            }
            last = Some(partial);
        }
    }
    Ok(stream.finish_with_metadata_and_log_probs(candidates(args))?)
}

fn print(file: &Path, transcripts: &[Transcript], args: &Args, many: bool) {
    if args.json {
        let candidates: Vec<serde_json::Value> = transcripts
            .iter()
            .map(|t| {
                let words: Vec<serde_json::Value> = t
                    .words
                    .iter()
                    .map(|w| {
                        serde_json::json!({
                            "word": w.word,
                            "start_time": round3(w.start),
                            "duration": round3(w.duration),
                            "confidence": round3(w.confidence),
                        })
                    })
                    .collect();
                serde_json::json!({ "confidence": round3(t.confidence), "text": t.text, "words": words })
            })
            .collect();
        let out =
            serde_json::json!({ "file": file.display().to_string(), "transcripts": candidates });
        println!("{out}");
        return;
    }
    for t in transcripts {
        if many {
            println!("{}: {}", file.display(), t.text);
        } else {
            println!("{}", t.text);
        }
        if args.extended {
            for w in &t.words {
                println!(
                    "  {:>8.3} {:>8.3}  {}",
                    w.start,
                    w.start + w.duration,
                    w.word
                );
            }
        }
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
