//! Containers around uWSGI (Compose, Kubernetes, ECS, Dockerfiles): so far
//! the quantity grammars each of them uses for memory, and ECS task
//! definitions.

pub mod ecs;
pub mod quantity;
