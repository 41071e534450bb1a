//! `libdeepspeech.so` gets DeepSpeech's soname, so that programs and bindings linked against
//! DeepSpeech's library (their NEEDED entry is `libdeepspeech.so`) load this one in its place.
fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdeepspeech.so");
}
