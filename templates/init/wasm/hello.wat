;; The core module of hello.wasm, written against the component model's canonical ABI by
;; hand: a string is a (pointer, length) pair in linear memory, and a string result is
;; returned through a (pointer, length) return area. A real plugin is written in Rust,
;; TypeScript or another language that builds components; this one needs no toolchain.
(module
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 1024))
  (data (i32.const 64) "Hello, ")

  ;; Allocation for the host, which copies the argument in through it (a bump allocator).
  (func $alloc (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $next (i32.add (local.get $ptr) (local.get $size)))
    (block $enough
      (loop $grow
        (br_if $enough (i32.le_u (global.get $next) (i32.mul (memory.size) (i32.const 65536))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $ptr))

  ;; greet(name) -> string: "Hello, " + name + "!"
  (func (export "greet") (param $name i32) (param $len i32) (result i32)
    (local $out i32)
    (local.set $out (call $alloc (i32.const 0) (i32.const 0) (i32.const 1) (i32.add (local.get $len) (i32.const 8))))
    (memory.copy (local.get $out) (i32.const 64) (i32.const 7))
    (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $name) (local.get $len))
    (i32.store8 (i32.add (local.get $out) (i32.add (local.get $len) (i32.const 7))) (i32.const 33))
    (i32.store (i32.const 8) (local.get $out))
    (i32.store (i32.const 12) (i32.add (local.get $len) (i32.const 8)))
    (i32.const 8)))
