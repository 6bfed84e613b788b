//! Engine errors as Python exceptions. The classes live in `dupsift._errors` (Python, so that
//! they can inherit from both `dupsift.Error` and the builtin a user catches: `ValueError` for
//! bad parameters and columns, `OSError` for inputs that cannot be read).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Which class of `dupsift._errors` an error is raised as.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Parameters that cannot work (a `ValueError`).
    Parameter,
    /// A table without a usable text column (a `ValueError`).
    Column,
    /// An input that cannot be read, or changed while read (an `OSError`).
    Input,
    /// A bad input under `strict=True` (a `ValueError`).
    Strict,
    /// Anything else the engine refuses (a `dupsift.Error`).
    Engine,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Parameter => "ParameterError",
            Kind::Column => "ColumnError",
            Kind::Input => "InputError",
            Kind::Strict => "StrictError",
            Kind::Engine => "Error",
        }
    }
}

/// The exception of `kind` with `message`. If the classes cannot be imported (a broken
/// installation), a `RuntimeError` with the message still reaches the user.
pub fn error(kind: Kind, message: impl Into<String>) -> PyErr {
    let message = message.into();
    Python::attach(|py| {
        let class = py
            .import("dupsift._errors")
            .and_then(|m| m.getattr(kind.class()))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(class) => PyErr::from_type(class, message),
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// The Python exception of an engine error.
pub fn engine(e: dupsift::Error) -> PyErr {
    use dupsift::Error as E;
    use dupsift::ScanError as S;
    use dupsift::clean::CleanError as C;
    let kind = match &e {
        E::Params(_) | E::Disagreement(_) => Kind::Parameter,
        E::MissingInput(_)
        | E::Corpus(_)
        | E::IndexFile(_)
        | E::Baseline(_)
        | E::NothingRead(_) => Kind::Input,
        E::Scan(S::Strict(_)) => Kind::Strict,
        E::Scan(S::Corpus(_) | S::Changed { .. } | S::Spill(_)) => Kind::Input,
        E::Scan(S::NoFields { .. }) => Kind::Parameter,
        E::Output(_) | E::Guard(_) | E::Clean(C::Output(_)) => Kind::Parameter,
        E::Clean(
            C::NeedsPassages | C::AnnotateOnlyCuts | C::AnnotateText { .. } | C::Reserved { .. },
        ) => Kind::Parameter,
        E::Clean(C::FieldExists { .. } | C::ColumnExists { .. }) => Kind::Column,
        E::Clean(C::Io { .. } | C::Changed { .. } | C::OutputTaken { .. }) => Kind::Input,
        _ => Kind::Engine,
    };
    error(kind, e.to_string())
}
