//! Macros shared by the vocabulary modules.

/// Implements `serde::Serialize` and `serde::Deserialize` (feature `serde`) for a type that
/// travels as a string: serializing writes `as_str()`; deserializing reads a string `$v` with
/// `$parse` (an `Result<Self, E>` for the deserializer's error type `E`) and describes what it
/// expects by writing to the formatter `$f` with `$expecting`.
macro_rules! serde_as_str {
    ($name:ident, |$f:ident| $expecting:expr, |$v:ident| $parse:expr) => {
        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, $f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                        $expecting
                    }
                    fn visit_str<E: serde::de::Error>(self, $v: &str) -> Result<$name, E> {
                        $parse
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use serde_as_str;
