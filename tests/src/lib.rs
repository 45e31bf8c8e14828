//! ember tests
