//! Containers around uWSGI (Compose, Kubernetes, ECS, Dockerfiles): for now
//! the quantity grammars each of them uses for memory.

pub mod quantity;
