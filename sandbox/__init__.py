"""A local Kubernetes control plane for the demo, the integration tests and the benchmarks.

Real etcd, kube-apiserver, kube-controller-manager and kube-scheduler, plus kwok for simulated
kubelets, all built from their Go modules with this machine's Go (``sandbox/go``) and run as
plain processes on loopback. Nothing in the Kubernetes API is faked: only the kubelets are.
"""
