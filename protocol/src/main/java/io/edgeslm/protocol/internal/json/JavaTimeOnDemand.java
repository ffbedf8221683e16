package io.edgeslm.protocol.internal.json;

import com.fasterxml.jackson.core.Version;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.SerializationConfig;
import com.fasterxml.jackson.databind.deser.Deserializers;
import com.fasterxml.jackson.databind.deser.KeyDeserializers;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;
import com.fasterxml.jackson.databind.deser.ValueInstantiators;
import com.fasterxml.jackson.databind.ser.Serializers;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.fasterxml.jackson.datatype.jsr310.ser.InstantSerializer;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Jackson's {@link JavaTimeModule} for every {@code java.time} type, with the module itself built
 * only when a type other than {@link Instant} is first met.
 *
 * <p>Why: registering {@code JavaTimeModule} builds all of its serializers and deserializers at
 * once, about 55 classes, although the wire records hold only {@link Instant}s (the controller's
 * rollout store also writes {@code Duration}s). On the node agent those classes are class metadata
 * that stays resident for nothing (docs/benchmarks.md, "Idle RSS"). {@link Instant} values are
 * written here with the serializer {@code JavaTimeModule} registers for them ({@link
 * InstantSerializer#INSTANCE}: ISO-8601 unless {@code WRITE_DATES_AS_TIMESTAMPS}); reading them is
 * the strict deserializer {@code Json} registers after this module. Every other lookup for a {@code
 * java.time} class is answered by the serializers, deserializers, key (de)serializers and value
 * instantiators that {@code JavaTimeModule.setupModule} registers, captured from it on first use,
 * so the JSON is the same as with the module registered directly.
 */
public final class JavaTimeOnDemand extends Module {

  @Override
  public String getModuleName() {
    return "edgeslm-java-time-on-demand";
  }

  @Override
  public Version version() {
    return Version.unknownVersion();
  }

  @Override
  public void setupModule(SetupContext context) {
    context.addSerializers(
        new Serializers.Base() {
          @Override
          public JsonSerializer<?> findSerializer(
              SerializationConfig config, JavaType type, BeanDescription beanDesc) {
            if (type.hasRawClass(Instant.class)) {
              return InstantSerializer.INSTANCE;
            }
            return isJavaTime(type.getRawClass())
                ? first(
                    Captured.INSTANCE.serializers, s -> s.findSerializer(config, type, beanDesc))
                : null;
          }
        });
    context.addKeySerializers(
        new Serializers.Base() {
          @Override
          public JsonSerializer<?> findSerializer(
              SerializationConfig config, JavaType type, BeanDescription beanDesc) {
            return isJavaTime(type.getRawClass())
                ? first(
                    Captured.INSTANCE.keySerializers, s -> s.findSerializer(config, type, beanDesc))
                : null;
          }
        });
    context.addDeserializers(
        new Deserializers.Base() {
          @Override
          public JsonDeserializer<?> findBeanDeserializer(
              JavaType type, DeserializationConfig config, BeanDescription beanDesc)
              throws JsonMappingException {
            return isJavaTime(type.getRawClass())
                ? first(
                    Captured.INSTANCE.deserializers,
                    d -> d.findBeanDeserializer(type, config, beanDesc))
                : null;
          }

          @Override
          public boolean hasDeserializerFor(DeserializationConfig config, Class<?> valueType) {
            if (valueType == Instant.class) {
              return true; // answered without building the module: it has one for Instant
            }
            if (!isJavaTime(valueType)) {
              return false;
            }
            for (Deserializers d : Captured.INSTANCE.deserializers) {
              if (d.hasDeserializerFor(config, valueType)) {
                return true;
              }
            }
            return false;
          }
        });
    context.addKeyDeserializers(
        (type, config, beanDesc) -> {
          return isJavaTime(type.getRawClass())
              ? first(
                  Captured.INSTANCE.keyDeserializers,
                  k -> k.findKeyDeserializer(type, config, beanDesc))
              : null;
        });
    context.addValueInstantiators(
        new ValueInstantiators.Base() {
          @Override
          public ValueInstantiator findValueInstantiator(
              DeserializationConfig config, BeanDescription beanDesc, ValueInstantiator dflt) {
            if (!isJavaTime(beanDesc.getBeanClass())) {
              return dflt;
            }
            ValueInstantiator v = dflt;
            for (ValueInstantiators i : Captured.INSTANCE.instantiators) {
              v = i.findValueInstantiator(config, beanDesc, v);
            }
            return v;
          }
        });
  }

  /**
   * A lookup of one captured registration (Jackson's deserializer lookups may throw, others not).
   */
  private interface Lookup<T, R, X extends Exception> {
    R find(T registration) throws X;
  }

  /** The first non-null answer of {@code registrations}, in the order Jackson consults them. */
  private static <T, R, X extends Exception> R first(List<T> registrations, Lookup<T, R, X> lookup)
      throws X {
    for (T r : registrations) {
      R found = lookup.find(r);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static boolean isJavaTime(Class<?> c) {
    return c != null && c.getName().startsWith("java.time.");
  }

  /**
   * What {@code JavaTimeModule.setupModule} registers, in the order Jackson consults it (the last
   * registered first). Built on first use: loading this class builds the module.
   */
  private static final class Captured {
    static final Captured INSTANCE = new Captured();

    final List<Serializers> serializers = new ArrayList<>();
    final List<Serializers> keySerializers = new ArrayList<>();
    final List<Deserializers> deserializers = new ArrayList<>();
    final List<KeyDeserializers> keyDeserializers = new ArrayList<>();
    final List<ValueInstantiators> instantiators = new ArrayList<>();

    private Captured() {
      InvocationHandler capture =
          (proxy, method, args) -> {
            switch (method.getName()) {
              case "addSerializers" -> serializers.addFirst((Serializers) args[0]);
              case "addKeySerializers" -> keySerializers.addFirst((Serializers) args[0]);
              case "addDeserializers" -> deserializers.addFirst((Deserializers) args[0]);
              case "addKeyDeserializers" -> keyDeserializers.addFirst((KeyDeserializers) args[0]);
              case "addValueInstantiators" -> instantiators.add((ValueInstantiators) args[0]);
              // Both modifiers act only with JavaTimeFeature.ONE_BASED_MONTHS, which the
              // default module (and so Json) leaves off.
              case "addBeanSerializerModifier", "addBeanDeserializerModifier" -> {}
              default ->
                  throw new IllegalStateException(
                      "JavaTimeModule.setupModule called SetupContext."
                          + method.getName()
                          + ", which JavaTimeOnDemand does not pass on (after a Jackson upgrade?):"
                          + " forward it in JavaTimeOnDemand.Captured, or register"
                          + " JavaTimeModule directly in Json.");
            }
            return null;
          };
      new JavaTimeModule()
          .setupModule(
              (SetupContext)
                  Proxy.newProxyInstance(
                      SetupContext.class.getClassLoader(),
                      new Class<?>[] {SetupContext.class},
                      capture));
    }
  }
}
