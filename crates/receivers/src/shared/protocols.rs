//! Reading a receiver's `protocols` map as the Go Collector does: a protocol is enabled by
//! its key being present, even with no value (`grpc:` alone enables gRPC with its
//! defaults), where a derived struct would read a null value as absent.

/// Implements `Deserialize` for a `protocols` struct of `Option` sections read as a map:
/// each listed key fills its field (a null value gives the section's defaults), a key
/// given twice is refused as the duplicate field `$duplicate`, any other key is unknown;
/// a null map enables nothing.
macro_rules! protocols_from_map {
    ($protocols:ty, expecting: $expecting:literal, duplicate: $duplicate:literal, {
        $($key:literal => $field:ident),+ $(,)?
    }) => {
        impl<'de> serde::Deserialize<'de> for $protocols {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ProtocolsVisitor;

                impl<'de> serde::de::Visitor<'de> for ProtocolsVisitor {
                    type Value = $protocols;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_unit<E: serde::de::Error>(self) -> Result<$protocols, E> {
                        Ok(<$protocols>::default())
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$protocols, A::Error> {
                        let mut protocols = <$protocols>::default();
                        while let Some(key) = map.next_key::<String>()? {
                            match key.as_str() {
                                $($key if protocols.$field.is_none() => {
                                    protocols.$field = Some(map.next_value()?);
                                })+
                                $($key)|+ => {
                                    return Err(serde::de::Error::duplicate_field($duplicate));
                                }
                                other => {
                                    return Err(serde::de::Error::unknown_field(
                                        other,
                                        &[$($key),+],
                                    ));
                                }
                            }
                        }
                        Ok(protocols)
                    }
                }

                deserializer.deserialize_map(ProtocolsVisitor)
            }
        }
    };
}

pub(crate) use protocols_from_map;
