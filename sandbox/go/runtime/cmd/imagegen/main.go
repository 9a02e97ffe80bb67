// Command imagegen writes container image archives offline, for the sandbox's node runtime
// and for the product image. Nothing is pulled and no daemon is needed.
//
//	imagegen images -spec SPEC.json -o OUT.tar
//	    Every image SPEC.json describes, in one docker-archive tarball (the format
//	    `ctr images import` and `docker load` read). SPEC.json:
//	      {"images": [
//	        {"refs": ["docker.io/example/unused:v1"], "size": 2097152, "layers": 1,
//	         "created": "2024-01-01T00:00:00Z"},
//	        {"refs": ["registry.k8s.io/pause:3.10"], "binary": "/path/to/sandboxproc",
//	         "entrypoint": ["/sandboxproc"], "cmd": ["pause"], "created": "..."}
//	      ]}
//	    An image with "size" has "layers" layers of random bytes (size split evenly), so
//	    every image is distinct. An image with "binary" has one layer holding that file at
//	    the entrypoint's path (mode 0755) and nothing else.
//
//	imagegen rootfs -layer ROOTFS.tar -ref NAME:TAG -o OUT.tar [flags]
//	    One image from one filesystem tar (for example a Debian root filesystem tarred with
//	    --numeric-owner). See `imagegen rootfs -h` for the flags.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imageSpec is one entry of the "images" spec file.
type imageSpec struct {
	Refs       []string          `json:"refs"`
	Size       int64             `json:"size"`
	Layers     int               `json:"layers"`
	Binary     string            `json:"binary"`
	Entrypoint []string          `json:"entrypoint"`
	Cmd        []string          `json:"cmd"`
	Env        []string          `json:"env"`
	Labels     map[string]string `json:"labels"`
	Created    string            `json:"created"`
}

type specFile struct {
	Images []imageSpec `json:"images"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: imagegen images|rootfs [flags] (imagegen MODE -h for the flags)")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "images":
		err = imagesMain(os.Args[2:])
	case "rootfs":
		err = rootfsMain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q (want images or rootfs)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "imagegen: %v\n", err)
		os.Exit(1)
	}
}

func imagesMain(args []string) error {
	flags := flag.NewFlagSet("imagegen images", flag.ContinueOnError)
	specPath := flags.String("spec", "", "JSON file describing the images (- for stdin)")
	out := flags.String("o", "", "docker-archive tarball to write")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *specPath == "" || *out == "" {
		return errors.New("images needs -spec and -o")
	}
	var raw []byte
	var err error
	if *specPath == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(*specPath)
	}
	if err != nil {
		return err
	}
	var spec specFile
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&spec); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	refToImage := map[name.Reference]v1.Image{}
	for index, one := range spec.Images {
		img, err := buildImage(one)
		if err != nil {
			return fmt.Errorf("image %d %v: %w", index, one.Refs, err)
		}
		if len(one.Refs) == 0 {
			return fmt.Errorf("image %d has no refs", index)
		}
		for _, ref := range one.Refs {
			parsed, err := name.ParseReference(ref, name.StrictValidation)
			if err != nil {
				return fmt.Errorf("image %d: %w", index, err)
			}
			if _, dup := refToImage[parsed]; dup {
				return fmt.Errorf("ref %s given twice", ref)
			}
			refToImage[parsed] = img
		}
	}
	return writeAtomically(*out, func(path string) error {
		return tarball.MultiRefWriteToFile(path, refToImage)
	})
}

func buildImage(spec imageSpec) (v1.Image, error) {
	var layers []v1.Layer
	switch {
	case spec.Binary != "" && spec.Size != 0:
		return nil, errors.New("give size or binary, not both")
	case spec.Binary != "":
		if len(spec.Entrypoint) == 0 || !strings.HasPrefix(spec.Entrypoint[0], "/") {
			return nil, errors.New("a binary image needs an absolute entrypoint path")
		}
		layer, err := binaryLayer(spec.Binary, spec.Entrypoint[0])
		if err != nil {
			return nil, err
		}
		layers = append(layers, layer)
	case spec.Size > 0:
		count := spec.Layers
		if count <= 0 {
			count = 1
		}
		for index := range count {
			share := spec.Size / int64(count)
			if index == count-1 {
				share = spec.Size - share*int64(count-1)
			}
			layer, err := randomLayer(share)
			if err != nil {
				return nil, err
			}
			layers = append(layers, layer)
		}
	default:
		return nil, errors.New("an image needs a positive size or a binary")
	}
	created, err := parseCreated(spec.Created)
	if err != nil {
		return nil, err
	}
	return assemble(layers, created, v1.Config{
		Entrypoint: spec.Entrypoint,
		Cmd:        spec.Cmd,
		Env:        spec.Env,
		Labels:     spec.Labels,
	}, types.DockerManifestSchema2)
}

func parseCreated(value string) (time.Time, error) {
	if value == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	created, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, fmt.Errorf("created: %w", err)
	}
	return created.UTC(), nil
}

// assemble stacks layers on an empty image and sets the config a runtime reads.
func assemble(layers []v1.Layer, created time.Time, config v1.Config, manifestType types.MediaType) (v1.Image, error) {
	base := empty.Image
	if manifestType == types.OCIManifestSchema1 {
		base = mutate.MediaType(mutate.ConfigMediaType(base, types.OCIConfigJSON), types.OCIManifestSchema1)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, err
	}
	file, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	file = file.DeepCopy()
	file.Architecture = runtime.GOARCH
	file.OS = "linux"
	file.Created = v1.Time{Time: created}
	file.Config = config
	file.History = nil
	for range layers {
		file.History = append(file.History, v1.History{Created: v1.Time{Time: created}, CreatedBy: "imagegen"})
	}
	return mutate.ConfigFile(img, file)
}

// randomLayer is a gzipped tar holding one file of size random bytes. Random bytes do not
// compress, so the layer's size is the size asked for plus the tar framing.
func randomLayer(size int64) (v1.Layer, error) {
	var seed [32]byte
	if _, err := cryptorand.Read(seed[:]); err != nil {
		return nil, err
	}
	content := make([]byte, size)
	chacha := rand.NewChaCha8(seed)
	if _, err := chacha.Read(content); err != nil {
		return nil, err
	}
	var buffer bytes.Buffer
	writer := tar.NewWriter(&buffer)
	header := &tar.Header{Name: "data/random.bin", Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}
	if err := writer.WriteHeader(header); err != nil {
		return nil, err
	}
	if _, err := writer.Write(content); err != nil {
		return nil, err
	}
	if err := writer.Close(); err != nil {
		return nil, err
	}
	return layerFromBytes(buffer.Bytes())
}

// binaryLayer is a tar holding one executable at path (and the directories above it).
func binaryLayer(source, path string) (v1.Layer, error) {
	content, err := os.ReadFile(source)
	if err != nil {
		return nil, err
	}
	var buffer bytes.Buffer
	writer := tar.NewWriter(&buffer)
	epoch := time.Unix(0, 0)
	clean := strings.TrimPrefix(filepath.Clean(path), "/")
	parts := strings.Split(clean, "/")
	for index := 1; index < len(parts); index++ {
		dir := strings.Join(parts[:index], "/") + "/"
		if err := writer.WriteHeader(&tar.Header{Name: dir, Mode: 0o755, Typeflag: tar.TypeDir, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	header := &tar.Header{Name: clean, Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg, ModTime: epoch}
	if err := writer.WriteHeader(header); err != nil {
		return nil, err
	}
	if _, err := writer.Write(content); err != nil {
		return nil, err
	}
	if err := writer.Close(); err != nil {
		return nil, err
	}
	return layerFromBytes(buffer.Bytes())
}

func layerFromBytes(content []byte) (v1.Layer, error) {
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }
	return tarball.LayerFromOpener(opener, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching)
}

// repeated collects a flag given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func rootfsMain(args []string) error {
	flags := flag.NewFlagSet("imagegen rootfs", flag.ContinueOnError)
	layerPath := flags.String("layer", "", "the root filesystem as one tar file (plain or gzipped)")
	out := flags.String("o", "", "the image tarball to write")
	format := flags.String("format", "docker", "docker (docker-archive, for ctr import or docker load) or oci (an OCI image layout, tarred)")
	entrypoint := flags.String("entrypoint", "", `entrypoint as a JSON array, e.g. '["/usr/bin/python3","-m","app"]'`)
	cmd := flags.String("cmd", "", "cmd as a JSON array")
	user := flags.String("user", "", "user the container runs as, e.g. 10001:10001")
	workdir := flags.String("workdir", "", "working directory")
	created := flags.String("created", "", "config created time, RFC 3339 (default: the Unix epoch, for a reproducible image)")
	var refs, env, labels repeated
	flags.Var(&refs, "ref", "image name and tag (repeatable; at least one)")
	flags.Var(&env, "env", "KEY=VALUE in the image's environment (repeatable)")
	flags.Var(&labels, "label", "KEY=VALUE image label (repeatable)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *layerPath == "" || *out == "" || len(refs) == 0 {
		return errors.New("rootfs needs -layer, -o and at least one -ref")
	}
	config := v1.Config{User: *user, WorkingDir: *workdir, Env: env}
	for target, value := range map[*[]string]string{&config.Entrypoint: *entrypoint, &config.Cmd: *cmd} {
		if value == "" {
			continue
		}
		if err := json.Unmarshal([]byte(value), target); err != nil {
			return fmt.Errorf("entrypoint/cmd must be a JSON array of strings: %w", err)
		}
	}
	for _, kv := range env {
		if !strings.Contains(kv, "=") {
			return fmt.Errorf("-env %q is not KEY=VALUE", kv)
		}
	}
	if len(labels) > 0 {
		config.Labels = map[string]string{}
		for _, kv := range labels {
			key, value, ok := strings.Cut(kv, "=")
			if !ok {
				return fmt.Errorf("-label %q is not KEY=VALUE", kv)
			}
			config.Labels[key] = value
		}
	}
	when, err := parseCreated(*created)
	if err != nil {
		return err
	}
	var manifestType types.MediaType
	var layerType types.MediaType
	switch *format {
	case "docker":
		manifestType, layerType = types.DockerManifestSchema2, types.DockerLayer
	case "oci":
		manifestType, layerType = types.OCIManifestSchema1, types.OCILayer
	default:
		return fmt.Errorf("-format %q: want docker or oci", *format)
	}
	layer, err := tarball.LayerFromFile(*layerPath, tarball.WithMediaType(layerType), tarball.WithCompressedCaching)
	if err != nil {
		return err
	}
	img, err := assemble([]v1.Layer{layer}, when, config, manifestType)
	if err != nil {
		return err
	}
	parsed := map[name.Reference]v1.Image{}
	for _, ref := range refs {
		r, err := name.ParseReference(ref, name.StrictValidation)
		if err != nil {
			return err
		}
		parsed[r] = img
	}
	if *format == "docker" {
		return writeAtomically(*out, func(path string) error { return tarball.MultiRefWriteToFile(path, parsed) })
	}
	return writeAtomically(*out, func(path string) error { return writeOCIArchive(path, img, refs) })
}

// writeOCIArchive writes an OCI image layout (one manifest, annotated with each ref) as a tar.
func writeOCIArchive(path string, img v1.Image, refs []string) error {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".oci-layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	index, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		annotations := map[string]string{
			"org.opencontainers.image.ref.name": ref,
			"io.containerd.image.name":          ref,
		}
		if err := index.AppendImage(img, layout.WithAnnotations(annotations)); err != nil {
			return err
		}
	}
	return tarDirectory(dir, path)
}

func tarDirectory(dir, out string) error {
	file, err := os.Create(out)
	if err != nil {
		return err
	}
	writer := tar.NewWriter(file)
	walkErr := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		header, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		header.Name = filepath.ToSlash(rel)
		header.ModTime, header.Uid, header.Gid, header.Uname, header.Gname = time.Unix(0, 0), 0, 0, "", ""
		if info.IsDir() {
			header.Name += "/"
		}
		if err := writer.WriteHeader(header); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			source, err := os.Open(path)
			if err != nil {
				return err
			}
			defer source.Close()
			_, err = io.Copy(writer, source)
			return err
		}
		return nil
	})
	closeErr := writer.Close()
	fileErr := file.Close()
	return errors.Join(walkErr, closeErr, fileErr)
}

// writeAtomically writes through a temporary file beside out, so a half-written archive is
// never mistaken for a cached one.
func writeAtomically(out string, write func(path string) error) error {
	temporary := out + ".partial"
	if err := write(temporary); err != nil {
		os.Remove(temporary)
		return err
	}
	return os.Rename(temporary, out)
}
