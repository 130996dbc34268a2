// The native CPU formulation of augment_layers' one resampler.
//
// The same arithmetic as `augment_layers.ops.resample._resample_rows` (the
// general XLA formulation), float op for float op, so that both give the same
// bits: source coordinates `(m00 * x + m01 * y) + m02` (divided by the third
// row's value for a homography), the neighbours `floor` and `ceil` mapped into
// the image by the fill mode, two blends `a + w * (b - a)` along x, then one
// along y, and `fill_value` outside for "constant". Compiled with
// -ffp-contract=off, with the two multiply-adds that XLA:CPU fuses on a host
// with FMA written as fused ones (`MulAdd`): `m00 * x + (m01 * y)` for an
// affine map (not for a homography's, whose sums feed a divide) and
// `w * (b - a) + a` (found by emulating each candidate against XLA's output;
// the tests compare the two formulations bit for bit on every plan).
//
// What differs is the order of work: each output row is computed pixel after
// pixel, every channel of a neighbour read from the same cache line, the
// batch's rows split over the host's cores. XLA:CPU lowers the general
// formulation to one scalar load per value with no reuse between the four
// corners (docs/performance.md).
//
// Registered two ways: as a TensorFlow op with a CPU kernel (graphs and
// tf.data maps that are not compiled), and as an XLA kernel that lowers the
// op to a typed-FFI custom call, so that it runs inside the package's
// jit_compile=True segments and inside a user's XLA-compiled train step.

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/kernel_def_builder.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/compiler/tf2xla/xla_op_kernel.h"
#include "tensorflow/compiler/tf2xla/xla_op_registry.h"
#include "xla/hlo/builder/xla_builder.h"
#include "xla/ffi/api/ffi.h"

namespace xla {
namespace ffi {
const XLA_FFI_Api* GetXlaFfiApi();  // exported by libtensorflow_framework
}  // namespace ffi
}  // namespace xla


// ---------------------------------------------------------------- XLA FFI --

#include "ffi_handler.h"

using augment_layers::StepRows;

static const bool kFfiRegistered = [] {
  XLA_FFI_Error* error = xla::ffi::Ffi::RegisterStaticHandler(
      xla::ffi::GetXlaFfiApi(), "augment_layers_resample", "Host",
      AugmentLayersResampleFfi);
  return error == nullptr;
}();

// ------------------------------------------------------------- TensorFlow --

using namespace tensorflow;  // NOLINT

REGISTER_OP("AugmentLayersResample")
    .Input("images: T")
    .Input("matrices: float")
    .Input("values: float")
    .Output("output: float")
    .Attr("out_height: int")
    .Attr("out_width: int")
    .Attr("interpolation: {'bilinear', 'nearest'}")
    .Attr("fill_mode: {'constant', 'nearest', 'reflect', 'wrap'}")
    .Attr("fill_value: float")
    .Attr("projective: bool")
    .Attr("steps: string = ''")
    .Attr("T: {float, uint8} = DT_FLOAT")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      shape_inference::ShapeHandle images;
      TF_RETURN_IF_ERROR(c->WithRank(c->input(0), 4, &images));
      int64_t out_height, out_width;
      TF_RETURN_IF_ERROR(c->GetAttr("out_height", &out_height));
      TF_RETURN_IF_ERROR(c->GetAttr("out_width", &out_width));
      c->set_output(0, c->MakeShape({c->Dim(images, 0), out_height, out_width,
                                     c->Dim(images, 3)}));
      return absl::OkStatus();
    });

namespace {

struct Attrs {
  int64_t out_height, out_width;
  std::string interpolation, fill_mode;
  float fill_value;
  bool projective;
  std::string steps;

  template <typename Context>
  absl::Status Read(Context* c) {
    TF_RETURN_IF_ERROR(c->GetAttr("out_height", &out_height));
    TF_RETURN_IF_ERROR(c->GetAttr("out_width", &out_width));
    TF_RETURN_IF_ERROR(c->GetAttr("interpolation", &interpolation));
    TF_RETURN_IF_ERROR(c->GetAttr("fill_mode", &fill_mode));
    TF_RETURN_IF_ERROR(c->GetAttr("fill_value", &fill_value));
    TF_RETURN_IF_ERROR(c->GetAttr("projective", &projective));
    TF_RETURN_IF_ERROR(c->GetAttr("steps", &steps));
    if (StepRows(steps) < 0) {
      return errors::InvalidArgument("steps: each one of 's', 'a', 'c'");
    }
    return absl::OkStatus();
  }
};

class ResampleOp : public OpKernel {
 public:
  explicit ResampleOp(OpKernelConstruction* c) : OpKernel(c) {
    OP_REQUIRES_OK(c, attrs_.Read(c));
  }

  void Compute(OpKernelContext* c) override {
    const Tensor& images = c->input(0);
    const Tensor& matrices = c->input(1);
    OP_REQUIRES(c, images.dims() == 4,
                errors::InvalidArgument("images must be (B, H, W, C)"));
    OP_REQUIRES(c,
                matrices.dims() == 3 && matrices.dim_size(2) == 3 &&
                    matrices.dim_size(0) == images.dim_size(0) &&
                    (matrices.dim_size(1) == 3 ||
                     (matrices.dim_size(1) == 2 && !attrs_.projective)),
                errors::InvalidArgument("matrices must be (B, 2|3, 3)"));
    const Tensor& values = c->input(2);
    OP_REQUIRES(c,
                values.dims() == 3 &&
                    values.dim_size(0) == images.dim_size(0) &&
                    values.dim_size(1) == StepRows(attrs_.steps) &&
                    values.dim_size(2) == images.dim_size(3),
                errors::InvalidArgument(
                    "values must be (B, rows of the steps, C)"));
    Tensor* out = nullptr;
    OP_REQUIRES_OK(
        c, c->allocate_output(
               0,
               TensorShape({images.dim_size(0), attrs_.out_height,
                            attrs_.out_width, images.dim_size(3)}),
               &out));
    augment_layers::Geometry g{images.dim_size(0),
                               images.dim_size(1),
                               images.dim_size(2),
                               images.dim_size(3),
                               attrs_.out_height,
                               attrs_.out_width,
                               matrices.dim_size(1),
                               augment_layers::FillCode(attrs_.fill_mode),
                               attrs_.interpolation == "bilinear",
                               attrs_.projective,
                               attrs_.fill_value};
    g.steps = attrs_.steps.c_str();
    g.n_steps = static_cast<int32_t>(attrs_.steps.size());
    g.values = values.flat<float>().data();
    g.value_rows = values.dim_size(1);
    g.uint8_source = images.dtype() == DT_UINT8;
    if (out->NumElements() == 0) return;
    augment_layers::PickKernel()(images.tensor_data().data(),
                                 matrices.flat<float>().data(),
                                 out->flat<float>().data(), &g);
  }

 private:
  Attrs attrs_;
};

REGISTER_KERNEL_BUILDER(Name("AugmentLayersResample").Device(DEVICE_CPU),
                        ResampleOp);

class ResampleXlaOp : public XlaOpKernel {
 public:
  explicit ResampleXlaOp(OpKernelConstruction* c) : XlaOpKernel(c) {
    OP_REQUIRES_OK(c, attrs_.Read(c));
  }

  void Compile(XlaOpKernelContext* ctx) override {
    auto images_shape = ctx->InputXlaShape(0);
    OP_REQUIRES_OK(ctx, images_shape.status());
    const xla::Shape& in = *images_shape;
    OP_REQUIRES(ctx, in.dimensions().size() == 4,
                errors::InvalidArgument("images must be (B, H, W, C)"));
    xla::Shape out = xla::ShapeUtil::MakeShapeWithDescendingLayout(
        xla::F32, {in.dimensions(0), attrs_.out_height, attrs_.out_width,
                   in.dimensions(3)});
    uint32_t fill_bits;
    std::memcpy(&fill_bits, &attrs_.fill_value, sizeof(fill_bits));
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%08X", fill_bits);
    const std::string config =
        std::string("{bilinear = ") +
        (attrs_.interpolation == "bilinear" ? "1" : "0") +
        " : i32, fill_mode = " +
        std::to_string(augment_layers::FillCode(attrs_.fill_mode)) +
        " : i32, fill_value = " + hex + " : f32, projective = " +
        (attrs_.projective ? "1" : "0") + " : i32, steps = \"" +
        attrs_.steps + "\"}";
    // Row-major operands, as the handler reads them.
    xla::Shape images_layout = in;
    *images_layout.mutable_layout() =
        xla::LayoutUtil::GetDefaultLayoutForShape(in);
    auto matrices_shape = ctx->InputXlaShape(1);
    OP_REQUIRES_OK(ctx, matrices_shape.status());
    xla::Shape matrices_layout = *matrices_shape;
    *matrices_layout.mutable_layout() =
        xla::LayoutUtil::GetDefaultLayoutForShape(matrices_layout);
    auto values_shape = ctx->InputXlaShape(2);
    OP_REQUIRES_OK(ctx, values_shape.status());
    xla::Shape values_layout = *values_shape;
    *values_layout.mutable_layout() =
        xla::LayoutUtil::GetDefaultLayoutForShape(values_layout);
    xla::XlaOp result = xla::CustomCallWithLayout(
        ctx->builder(), "augment_layers_resample",
        {ctx->Input(0), ctx->Input(1), ctx->Input(2)}, out,
        {images_layout, matrices_layout, values_layout},
        config, /*has_side_effect=*/false,
        /*output_operand_aliasing=*/{}, /*literal=*/nullptr,
        xla::CustomCallSchedule::SCHEDULE_NONE,
        xla::CustomCallApiVersion::API_VERSION_TYPED_FFI);
    ctx->SetOutput(0, result);
  }

 private:
  Attrs attrs_;
};

REGISTER_XLA_OP(Name("AugmentLayersResample").Device(DEVICE_CPU_XLA_JIT),
                ResampleXlaOp);

// TensorFlow makes kernels for the XLA devices out of the process's
// REGISTER_XLA_OP records once, the first time anything is compiled
// (XlaOpRegistry::RegisterCompilationKernels). A library loaded after that,
// as after a jit-compiled function ran before `import augment_layers`, or
// when the first layer call builds the library, has its record kept but no
// kernel made from it: "No registered 'AugmentLayersResample' OpKernel for
// XLA_CPU_JIT devices". Where the kernels were made already (NoOp, which
// every XLA device compiles, has one) and ours is missing, ours is made here,
// as RegisterCompilationKernels would have made it; before that moment
// nothing is done, and RegisterCompilationKernels makes it when it runs.
bool HasKernelOn(const char* op, const char* device) {
  // The registry's own description ("device='XLA_CPU_JIT'; ..." a line a
  // kernel): no protocol buffer crosses the library's boundary.
  return KernelsRegisteredForOp(op).find(std::string("device='") + device +
                                         "'") != std::string::npos;
}

OpKernel* CreateResampleXlaOp(OpKernelConstruction* c) {
  return new ResampleXlaOp(c);
}

const bool kLateXlaKernel = [] {
  if (!HasKernelOn("NoOp", DEVICE_CPU_XLA_JIT) ||
      HasKernelOn("AugmentLayersResample", DEVICE_CPU_XLA_JIT)) {
    return false;
  }
  const KernelDef* def =
      register_kernel::Name("AugmentLayersResample")
          .Device(DEVICE_CPU_XLA_JIT)
          .TypeConstraint("T", {DT_FLOAT, DT_UINT8})
          .Build();
  // Kept for the life of the process, as TensorFlow keeps its own.
  new kernel_factory::OpKernelRegistrar(def, "ResampleXlaOp",
                                        &CreateResampleXlaOp);
  return true;
}();

}  // namespace

// The kernel level this process runs (read by ops/native.py through ctypes).
extern "C" __attribute__((visibility("default"))) const char*
augment_layers_native_level() {
  return augment_layers::KernelLevel();
}
