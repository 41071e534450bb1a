//! Every example in `examples/` run as its README says, against real recordings and a real
//! video made here, with the built plugin.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deepspeech_integration_tests::{
    SENTENCE, cer, cli_transcript, gst_launch, model, repo_root, run_ok, shared_data, temp_dir,
    with_plugin,
};

fn example(script: &str) -> Command {
    let mut c = with_plugin(Command::new("bash"));
    c.arg(repo_root().join("examples").join(script));
    c
}

/// Subtitle text lines of an SRT or WebVTT file (not numbers, times or headers).
fn subtitle_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.contains("-->") && l.parse::<u32>().is_err() && *l != "WEBVTT"
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn transcribe_file_prints_final_messages() {
    let wav = shared_data().join("ldc93s1/LDC93S1_pcms16le_2_44100.wav");
    let mut c = example("transcribe-file.sh");
    c.env("MODEL", model()).arg(&wav);
    let out = String::from_utf8(run_ok(c).stdout).unwrap();
    let finals: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("final=(boolean)true"))
        .collect();
    assert_eq!(finals.len(), 1, "{out}");
    assert!(
        finals[0].contains("text=(string)") && finals[0].contains("words="),
        "{}",
        finals[0]
    );
}

#[test]
fn subtitles_as_srt_and_webvtt() {
    let dir = temp_dir("subs");
    let wav = shared_data().join("ldc93s1/LDC93S1.wav");
    for name in ["out.srt", "out.vtt"] {
        let mut c = example("subtitles.sh");
        c.env("MODEL", model()).arg(&wav).arg(dir.join(name));
        run_ok(c);
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(text.contains(" --> "), "{name}: {text}");
        let lines = subtitle_lines(&text);
        assert_eq!(lines.len(), 1, "{name}: {text}");
        assert!(cer(SENTENCE, &lines[0]) < 0.35, "{name}: {}", lines[0]);
        if name.ends_with(".vtt") {
            assert!(text.starts_with("WEBVTT"));
        }
    }
}

/// A 4 s test video (VP8 test pattern + Vorbis LDC93S1) in Matroska, made with GStreamer.
fn test_video(dir: &std::path::Path) -> std::path::PathBuf {
    let video = dir.join("test.mkv");
    let wav = shared_data().join("ldc93s1/LDC93S1.wav");
    let location = format!("location={}", video.display());
    let audio = format!("location={}", wav.display());
    gst_launch(&[
        "matroskamux",
        "name=m",
        "!",
        "filesink",
        &location,
        "videotestsrc",
        "num-buffers=100",
        "!",
        "video/x-raw,width=320,height=240,framerate=25/1",
        "!",
        "vp8enc",
        "deadline=1",
        "!",
        "queue",
        "!",
        "m.",
        "filesrc",
        &audio,
        "!",
        "wavparse",
        "!",
        "audioconvert",
        "!",
        "vorbisenc",
        "!",
        "queue",
        "!",
        "m.",
    ]);
    video
}

#[test]
fn subtitle_track_muxed_into_matroska() {
    let dir = temp_dir("mux");
    let video = test_video(&dir);
    let out = dir.join("with-subs.mkv");
    let mut c = example("mux-subtitles.sh");
    c.env("MODEL", model()).arg(&video).arg(&out);
    run_ok(c);
    let bytes = std::fs::read(&out).unwrap();
    // Matroska's codec id of a UTF-8 subtitle track.
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"S_TEXT/UTF8"), "no subtitle track in the output");
    // The transcript is stored as the subtitle track's payload.
    let found = ["dark", "wash", "year"]
        .iter()
        .filter(|w| bytes.windows(w.len()).any(|win| win == w.as_bytes()))
        .count();
    assert!(found >= 2, "transcript words in the muxed file: {found}");
}

#[test]
fn burned_in_subtitles_reach_the_end_of_the_video() {
    let dir = temp_dir("burn");
    let video = test_video(&dir);
    let mut c = example("burn-in.sh");
    c.env("MODEL", model())
        .arg(&video)
        .arg("fakesink sync=false")
        .arg("fakesink sync=false");
    // textoverlay waits for text or gaps on its text pad: reaching EOS proves nothing stalls.
    let started = Instant::now();
    let out = run_ok(c);
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Got EOS"));
}

#[test]
fn python_client_reads_the_bus_messages() {
    let mut c = with_plugin(Command::new("/usr/bin/python3"));
    c.arg(repo_root().join("examples/python/transcribe.py"))
        .arg(shared_data().join("ldc93s1/LDC93S1_pcms16le_1_8000.wav"))
        .arg(model());
    let out = String::from_utf8(run_ok(c).stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with('[') && lines[0].contains("confidence"),
        "{out}"
    );
}

/// The live-microphone example for real: a PulseAudio daemon with a null sink whose monitor is
/// the default source (see ../shared/docs/testing.md); the recording is played into the sink
/// while `pulsesrc ! audioconvert ! deepspeech` listens.
#[test]
fn live_microphone_through_pulseaudio() {
    let dir = temp_dir("pulse");
    let runtime = dir.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    let pulse = |args: &[&str]| {
        Command::new(args[0])
            .args(&args[1..])
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("HOME", &dir)
            .output()
            .expect("pulseaudio tools (apt-get install pulseaudio pulseaudio-utils)")
    };
    let started = pulse(&[
        "pulseaudio",
        "--daemonize=yes",
        "--exit-idle-time=-1",
        "-n",
        "--load=module-null-sink sink_name=testsink",
        "--load=module-native-protocol-unix",
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let stop = || {
        let _ = pulse(&["pulseaudio", "--kill"]);
    };
    let set = pulse(&["pactl", "set-default-source", "testsink.monitor"]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );

    let mut listener = example("live-microphone.sh");
    listener
        .env("MODEL", model())
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = listener.spawn().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    // 1 s of silence, the sentence, 2 s of silence: the element must close the utterance.
    let wav = shared_data().join("ldc93s1/LDC93S1.wav");
    let mut player = with_plugin(Command::new("gst-launch-1.0"));
    player
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("HOME", &dir)
        .arg("-q")
        .args([
            "audiotestsrc",
            "wave=silence",
            "num-buffers=10",
            "!",
            "audio/x-raw,rate=16000,channels=1",
        ])
        .args([
            "!",
            "concat",
            "name=c",
            "!",
            "audioconvert",
            "!",
            "audioresample",
            "!",
            "pulsesink",
            "device=testsink",
        ])
        .args([
            "filesrc",
            &format!("location={}", wav.display()),
            "!",
            "wavparse",
            "!",
            "c.",
        ])
        .args([
            "audiotestsrc",
            "wave=silence",
            "num-buffers=20",
            "!",
            "audio/x-raw,rate=16000,channels=1",
            "!",
            "c.",
        ]);
    let played = player.output().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    stop();
    assert!(
        played.status.success(),
        "{}",
        String::from_utf8_lossy(&played.stderr)
    );
    let out = String::from_utf8_lossy(&out.stdout);
    let finals: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("deepspeech,") && l.contains("final=(boolean)true"))
        .collect();
    assert!(
        !finals.is_empty(),
        "no final result from the live pipeline:\n{out}"
    );
}

/// With the smoke-test model (the one `run-ldc93s1.sh` trains, which knows the exact recording
/// and nothing else, so the slightest shift of its frames shows), the element's subtitle and
/// the CLI's transcript (its own code path: the whole file in one stream) are the same at 8, 16
/// and 44.1 kHz.
#[test]
fn the_element_and_the_cli_agree_on_the_smoke_test_recording() {
    let dir = temp_dir("agree");
    let engine = std::sync::Arc::new(deepspeech_core::engine::Model::load(model()).unwrap());
    for file in [
        "LDC93S1.wav",
        "LDC93S1_pcms16le_1_8000.wav",
        "LDC93S1_pcms16le_2_44100.wav",
    ] {
        let wav = shared_data().join("ldc93s1").join(file);
        let mut c = example("subtitles.sh");
        c.env("MODEL", model()).arg(&wav).arg(dir.join("out.srt"));
        run_ok(c);
        let srt = std::fs::read_to_string(dir.join("out.srt")).unwrap();
        let cli = cli_transcript(&engine, &wav);
        assert_eq!(subtitle_lines(&srt), vec![cli], "{file}");
    }
}
