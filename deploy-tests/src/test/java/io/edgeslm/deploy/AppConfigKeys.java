package io.edgeslm.deploy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration an application reads, derived from the application itself: the keys of its
 * SmallRye {@code @ConfigMapping} interface (walked by reflection, as SmallRye names them), the
 * keys of its packaged {@code application.properties}, and the environment variables that file
 * names in {@code ${NAME:default}} expressions. An environment variable in a manifest must map to
 * one of them under MicroProfile Config's rule (upper case, every character other than a letter or
 * digit replaced by {@code _}).
 */
final class AppConfigKeys {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*):");

  private final String app;
  private final Set<String> keys = new TreeSet<>();
  private final Set<String> envNames = new TreeSet<>();
  private final Properties properties = new Properties();

  private AppConfigKeys(String app) {
    this.app = app;
  }

  /**
   * @param app a name for messages
   * @param mapping the application's {@code @ConfigMapping} interface
   * @param applicationProperties its packaged {@code application.properties}
   */
  static AppConfigKeys of(String app, Class<?> mapping, Path applicationProperties)
      throws IOException {
    AppConfigKeys k = new AppConfigKeys(app);
    ConfigMapping cm = mapping.getAnnotation(ConfigMapping.class);
    if (cm == null) {
      throw new IllegalArgumentException(mapping + " is not a @ConfigMapping interface");
    }
    k.walk(cm.prefix(), mapping, 0);
    String text = Files.readString(applicationProperties);
    try (var r = Files.newBufferedReader(applicationProperties)) {
      k.properties.load(r);
    }
    for (String key : k.properties.stringPropertyNames()) {
      // "%test.quarkus.http.port" is the same key in another profile.
      k.keys.add(key.startsWith("%") ? key.substring(key.indexOf('.') + 1) : key);
    }
    Matcher m = PLACEHOLDER.matcher(text);
    while (m.find()) {
      k.envNames.add(m.group(1));
    }
    return k;
  }

  /** Keys that are not in the application's own files but that Quarkus itself reads. */
  AppConfigKeys withQuarkusKeys(String... quarkusKeys) {
    for (String key : quarkusKeys) {
      if (!key.startsWith("quarkus.")) {
        throw new IllegalArgumentException(key + " is not a Quarkus key");
      }
      keys.add(key);
    }
    return this;
  }

  /** The packaged {@code application.properties} value of {@code key}, as written. */
  Optional<String> property(String key) {
    return Optional.ofNullable(properties.getProperty(key));
  }

  /** The key an environment variable sets, if any. */
  Optional<String> keyFor(String envName) {
    if (envNames.contains(envName)) {
      return Optional.of("${" + envName + "}");
    }
    for (String key : keys) {
      if (envPattern(key).matcher(envName).matches()) {
        return Optional.of(key);
      }
    }
    return Optional.empty();
  }

  String app() {
    return app;
  }

  Set<String> keys() {
    return keys;
  }

  /** MicroProfile Config's environment-variable form of a key; {@code *} stands for a map key. */
  static Pattern envPattern(String key) {
    StringBuilder re = new StringBuilder();
    for (String part : key.split("\\*", -1)) {
      if (!re.isEmpty()) {
        re.append("[A-Z0-9_]+");
      }
      re.append(Pattern.quote(part.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_")));
    }
    return Pattern.compile(re.toString());
  }

  private void walk(String prefix, Class<?> type, int depth) {
    if (depth > 8) {
      throw new IllegalStateException("Configuration nesting deeper than 8 at " + prefix);
    }
    for (Method m : type.getMethods()) {
      if (m.getParameterCount() != 0
          || Modifier.isStatic(m.getModifiers())
          || m.isDefault()
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      String name;
      if (m.isAnnotationPresent(WithParentName.class)) {
        name = prefix;
      } else {
        WithName wn = m.getAnnotation(WithName.class);
        name = prefix + "." + (wn != null ? wn.value() : kebab(m.getName()));
      }
      leafOrGroup(name, m.getGenericReturnType(), depth);
    }
  }

  private void leafOrGroup(String name, Type type, int depth) {
    if (type instanceof ParameterizedType pt) {
      Class<?> raw = (Class<?>) pt.getRawType();
      Type[] args = pt.getActualTypeArguments();
      if (raw == Optional.class) {
        leafOrGroup(name, args[0], depth);
        return;
      }
      if (raw == Map.class) {
        leafOrGroup(name + ".*", args[1], depth);
        return;
      }
      if (List.class.isAssignableFrom(raw) || Set.class.isAssignableFrom(raw)) {
        if (args[0] instanceof Class<?> c && isGroup(c)) {
          leafOrGroup(name + "[*]", c, depth);
        } else {
          keys.add(name);
        }
        return;
      }
      keys.add(name);
      return;
    }
    Class<?> c = (Class<?>) type;
    if (isGroup(c)) {
      walk(name, c, depth + 1);
    } else {
      keys.add(name);
    }
  }

  private static boolean isGroup(Class<?> c) {
    return c.isInterface() && !c.getName().startsWith("java.");
  }

  /** SmallRye's default naming: {@code clientId} becomes {@code client-id}. */
  static String kebab(String method) {
    StringBuilder b = new StringBuilder();
    for (char ch : method.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        b.append('-').append(Character.toLowerCase(ch));
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  @Override
  public String toString() {
    List<String> all = new ArrayList<>(keys);
    all.addAll(envNames);
    return app + " " + all;
  }
}
